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

// AppendBlock appends the symbols of one block of quantised coefficients
// c, in zig-zag order, to syms. Bit k of nonzero is set when c[k] != 0.
// pred is the component's DC prediction (the previous block's DC, 0 at
// the start of a strip); it is updated. dcT and acT are the block's
// Huffman tables.
//
// A symbol is table<<28 | symbol<<20 | extraBits<<16 | extraValue: the
// Huffman table, the symbol it codes (a DC size category, or an AC
// run/size byte), and the extra bits that follow the code.
func AppendBlock(syms []uint32, c *[64]int32, nonzero uint64, pred *int32, dcT, acT uint32) ([]uint32, error) {
	diff := c[0] - *pred
	*pred = c[0]
	n, e := magnitude(diff)
	if n > 11 {
		return syms, ErrCoefficientRange
	}
	syms = append(syms, dcT<<28|n<<20|n<<16|e)
	last := 0 // zig-zag index of the last coefficient coded
	for rest := nonzero >> 1; rest != 0; rest &= rest - 1 {
		k := bits.TrailingZeros64(rest) + 1
		run := uint32(k - last - 1)
		for run > 15 {
			syms = append(syms, acT<<28|0xF0<<20) // ZRL: sixteen zeros
			run -= 16
		}
		n, e := magnitude(c[k])
		if n > 10 {
			return syms, ErrCoefficientRange
		}
		syms = append(syms, acT<<28|(run<<4|n)<<20|n<<16|e)
		last = k
	}
	if last < 63 {
		syms = append(syms, acT<<28) // EOB
	}
	return syms, nil
}

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
