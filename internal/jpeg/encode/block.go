package encode

import (
	"errors"
	"math/bits"
)

// The Huffman tables, as numbered in a symbol.
const (
	LumaDC   = 0
	LumaAC   = 1
	ChromaDC = 2
	ChromaAC = 3
)

// ErrCoefficientRange reports a coefficient a baseline JPEG cannot code (a
// DC difference needing more than 11 bits, or an AC coefficient needing
// more than 10); only damaged input has one.
var ErrCoefficientRange = errors.New("encode: coefficient out of the baseline range")

// A BlockWriter takes the quantised blocks of MCU rows, in scan order,
// and codes them as the pass of [Encode] it serves needs: it counts their
// symbols (for the Huffman tables), counts and keeps them, or writes
// their bits with the tables. A [RowFunc] gets one per strip of rows; it
// carries the components' DC predictions from block to block.
//
// A kept symbol is table<<28 | symbol<<20 | extraBits<<16 | extraValue:
// the Huffman table, the symbol it codes (a DC size category, or an AC
// run/size byte), and the extra bits that follow the code.
type BlockWriter struct {
	mode  writerMode
	pred  [3]int32
	freq  *Counts // counted symbols (count and keep)
	extra int     // extra bits after the counted symbols' codes
	// The kept symbols are syms[:nsyms]: stored by index, so that keeping
	// one does not store a pointer (a write barrier while the collector
	// marks; a BlockWriter lives on the heap).
	syms  []uint32
	nsyms int
	bits  *bitWriter
	codes *Codes
}

type writerMode uint8

const (
	countSymbols writerMode = iota
	keepSymbols             // count them too
	writeBits
)

// Block codes one block of quantised coefficients c, in zig-zag order, of
// component comp (0 to 2; its DC prediction is carried); bit k of nonzero
// is set when c[k] != 0. dcT and acT are the block's Huffman tables.
func (w *BlockWriter) Block(c *[64]int32, nonzero uint64, comp int, dcT, acT uint32) error {
	pred := &w.pred[comp]
	diff := c[0] - *pred
	*pred = c[0]
	n, e := magnitude(diff)
	if n > 11 {
		return ErrCoefficientRange
	}
	w.symbol(dcT, n, n, e)
	last := 0 // zig-zag index of the last coefficient coded
	for rest := nonzero >> 1; rest != 0; rest &= rest - 1 {
		k := bits.TrailingZeros64(rest) + 1
		run := uint32(k - last - 1)
		for run > 15 {
			w.symbol(acT, 0xF0, 0, 0) // ZRL: sixteen zeros
			run -= 16
		}
		n, e := magnitude(c[k])
		if n > 10 {
			return ErrCoefficientRange
		}
		w.symbol(acT, run<<4|n, n, e)
		last = k
	}
	if last < 63 {
		w.symbol(acT, 0, 0, 0) // EOB
	}
	return nil
}

// symbol codes symbol sym of table t, followed by the n extra bits e.
func (w *BlockWriter) symbol(t, sym, n, e uint32) {
	if w.mode == writeBits {
		c := &w.codes[t]
		w.bits.emit(uint32(c.code[sym])<<n|e, uint(c.size[sym])+uint(n))
		return
	}
	w.freq[t][sym]++
	w.extra += int(n)
	if w.mode == keepSymbols {
		if w.nsyms == len(w.syms) {
			w.reserve(2*len(w.syms) + 256)
		}
		w.syms[w.nsyms] = t<<28 | sym<<20 | n<<16 | e
		w.nsyms++
	}
}

// reserve makes room for n kept symbols in all.
func (w *BlockWriter) reserve(n int) {
	if n > len(w.syms) {
		w.syms = append(w.syms[:w.nsyms], make([]uint32, n-w.nsyms)...)
		w.syms = w.syms[:cap(w.syms)]
	}
}

// kept returns the kept symbols.
func (w *BlockWriter) kept() []uint32 { return w.syms[:w.nsyms] }

// magnitude returns the JPEG size category of v and its extra bits.
func magnitude(v int32) (n, extra uint32) {
	a := v
	if a < 0 {
		a = -a
		v--
	}
	n = uint32(bits.Len32(uint32(a)))
	return n, uint32(v) & (1<<n - 1)
}
