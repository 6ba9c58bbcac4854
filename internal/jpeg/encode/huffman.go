package encode

import (
	"encoding/binary"
	"slices"
)

// Counts counts symbols per Huffman table ([LumaDC], [LumaAC],
// [ChromaDC], [ChromaAC]).
type Counts [4][257]int

// Merge adds g's counts to f's.
func (f *Counts) Merge(g *Counts) {
	for t := range f {
		for s := range f[t] {
			f[t][s] += g[t][s]
		}
	}
}

// Codes are the Huffman codes of the four tables.
type Codes [4]huffCode

type huffCode struct {
	code [256]uint16
	size [256]uint8
}

// Bits returns how many bits the codes spend on the symbols counted in f
// (the extra bits of each symbol not included).
func (c *Codes) Bits(f *Counts) int {
	n := 0
	for t := range f {
		for s, k := range f[t][:256] {
			n += k * int(c[t].size[s])
		}
	}
	return n
}

// Tables builds optimal codes for the used tables from the counts, and
// their DHT segment.
func (f *Counts) Tables(used [4]bool) (*Codes, []byte) {
	var codes Codes
	dht := []byte{0xFF, 0xC4, 0, 0}
	for t := range 4 {
		if !used[t] {
			continue
		}
		freq := f[t]
		freq[256] = 1 // reserve the all-ones code, as Annex K.2 asks
		bits, vals := optimalLengths(freq[:])
		codes[t] = canonical(bits, vals)
		class, id := byte(t%2), byte(t/2)
		dht = append(dht, class<<4|id)
		dht = append(dht, bits[1:17]...)
		dht = append(dht, vals...)
	}
	binary.BigEndian.PutUint16(dht[2:], uint16(len(dht)-2))
	return &codes, dht
}

// optimalLengths builds JPEG Huffman tables (BITS and HUFFVAL, code
// lengths limited to 16) from symbol frequencies, following Annex K.2 of
// the JPEG standard (as libjpeg's jpeg_gen_optimal_table does).
func optimalLengths(f []int) (bits [33]byte, vals []byte) {
	freq := make([]int, 257)
	copy(freq, f)
	codesize := make([]int, 257)
	others := make([]int, 257)
	for i := range others {
		others[i] = -1
	}
	for {
		c1, c2 := -1, -1
		v := int(^uint(0) >> 1)
		for i := range 257 {
			if freq[i] > 0 && freq[i] <= v {
				v, c1 = freq[i], i
			}
		}
		v = int(^uint(0) >> 1)
		for i := range 257 {
			if freq[i] > 0 && freq[i] <= v && i != c1 {
				v, c2 = freq[i], i
			}
		}
		if c2 < 0 {
			break
		}
		freq[c1] += freq[c2]
		freq[c2] = 0
		codesize[c1]++
		for others[c1] >= 0 {
			c1 = others[c1]
			codesize[c1]++
		}
		others[c1] = c2
		codesize[c2]++
		for others[c2] >= 0 {
			c2 = others[c2]
			codesize[c2]++
		}
	}
	for i := range 257 {
		if codesize[i] > 0 {
			bits[codesize[i]]++
		}
	}
	for i := 32; i > 16; i-- {
		for bits[i] > 0 {
			j := i - 2
			for bits[j] == 0 {
				j--
			}
			bits[i] -= 2
			bits[i-1]++
			bits[j+1] += 2
			bits[j]--
		}
	}
	i := 16
	for bits[i] == 0 {
		i--
	}
	bits[i]-- // remove the reserved code
	type sv struct{ size, sym int }
	var order []sv
	for s := range 256 {
		if codesize[s] > 0 {
			order = append(order, sv{codesize[s], s})
		}
	}
	slices.SortFunc(order, func(a, b sv) int {
		if a.size != b.size {
			return a.size - b.size
		}
		return a.sym - b.sym
	})
	for _, o := range order {
		vals = append(vals, byte(o.sym))
	}
	return bits, vals
}

// canonical assigns codes to vals in order of the lengths in bits.
func canonical(bits [33]byte, vals []byte) huffCode {
	var c huffCode
	code, k := uint16(0), 0
	for l := 1; l <= 16; l++ {
		for range int(bits[l]) {
			c.code[vals[k]], c.size[vals[k]] = code, uint8(l)
			code++
			k++
		}
		code <<= 1
	}
	return c
}

// bitWriter writes entropy-coded data, stuffing a zero after each 0xFF.
// Its output is buf[:n]: bytes are stored by index and only n moves, so
// that writing does not store a pointer (a bitWriter lives on the heap, as
// a BlockWriter holds it, and a pointer store there costs a write barrier
// whenever the garbage collector is marking).
type bitWriter struct {
	buf   []byte
	n     int
	acc   uint64 // the last nbits bits written, in its low bits
	nbits uint   // under 32 between calls
}

// newBitWriter returns a bitWriter with room for about size bytes.
func newBitWriter(size int) *bitWriter {
	return &bitWriter{buf: make([]byte, max(size, 64))}
}

// bytes returns what has been written.
func (w *bitWriter) bytes() []byte { return w.buf[:w.n] }

// emit writes the n low bits of bits (n at most 32).
func (w *bitWriter) emit(bits uint32, n uint) {
	w.acc = w.acc<<n | uint64(bits&(1<<n-1))
	w.nbits += n
	if w.nbits >= 32 {
		w.nbits -= 32
		w.put32(uint32(w.acc >> w.nbits))
	}
}

// put32 writes the four bytes of v, big-endian, each 0xFF followed by a
// stuffed zero.
func (w *bitWriter) put32(v uint32) {
	if w.n+8 > len(w.buf) {
		w.grow()
	}
	// x has a zero byte exactly where v has an 0xFF byte.
	if x := ^v; (x-0x01010101)&^x&0x80808080 == 0 {
		binary.BigEndian.PutUint32(w.buf[w.n:], v)
		w.n += 4
		return
	}
	for shift := 24; shift >= 0; shift -= 8 {
		w.putByte(byte(v >> shift))
	}
}

// putByte writes b, and a stuffed zero after an 0xFF; there must be room
// for two bytes.
func (w *bitWriter) putByte(b byte) {
	w.buf[w.n] = b
	w.n++
	if b == 0xFF {
		w.buf[w.n] = 0
		w.n++
	}
}

// grow doubles the buffer.
func (w *bitWriter) grow() {
	w.buf = append(w.buf[:w.n], make([]byte, len(w.buf)+64)...)
	w.buf = w.buf[:cap(w.buf)]
}

// symbols writes syms with codes: each symbol's code and extra bits in
// one emit (at most 16 + 15 bits).
func (w *bitWriter) symbols(syms []uint32, codes *Codes) {
	for _, s := range syms {
		t, sym, n, v := s>>28, (s>>20)&0xFF, uint(s>>16)&0xF, s&0xFFFF
		c := &codes[t]
		w.emit(uint32(c.code[sym])<<n|v&(1<<n-1), uint(c.size[sym])+n)
	}
}

// flush pads the last byte with 1 bits and writes what is left.
func (w *bitWriter) flush() {
	if pad := (8 - w.nbits%8) % 8; pad > 0 {
		w.acc = w.acc<<pad | (1<<pad - 1)
		w.nbits += pad
	}
	for w.nbits >= 8 {
		if w.n+2 > len(w.buf) {
			w.grow()
		}
		w.nbits -= 8
		w.putByte(byte(w.acc >> w.nbits))
	}
}
