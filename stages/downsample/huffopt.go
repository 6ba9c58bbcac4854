package downsample

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// optimizeHuffman losslessly rewrites a baseline JPEG written by
// image/jpeg (sequential, 8-bit, one scan, grey or YCbCr 4:2:0, optional
// restart markers; anything else is refused with an error) with
// Huffman tables built for its own symbol frequencies, as libjpeg's
// optimize_coding and jpegtran -optimize do. image/jpeg always uses the
// example tables of the JPEG standard; optimal tables typically save 5 to
// 10 per cent, which buys a step or two of quality within a budget. The
// coefficients are not touched: the output decodes to identical pixels.
func optimizeHuffman(src []byte) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil { // a parser bug must not take the stage down
			out, err = nil, fmt.Errorf("huffman: %v", v)
		}
	}()
	j, err := parseJPEG(src)
	if err != nil {
		return nil, err
	}
	syms, rst, err := j.decodeSymbols()
	if err != nil {
		return nil, err
	}
	var freq symbolCounts
	freq.add(syms)
	codes, dht := freq.tables(j.used)
	out = make([]byte, 0, len(src))
	out = append(out, src[:j.dhtStart]...)
	out = append(out, dht...)
	out = append(out, src[j.dhtEnd:j.scanStart]...)
	out = emitSymbols(out, syms, rst, &codes)
	return append(out, 0xFF, 0xD9), nil
}

// symbolCounts counts symbols per table: DC0, AC0, DC1, AC1.
type symbolCounts [4][257]int

func (f *symbolCounts) add(syms []uint32) {
	for _, s := range syms {
		f[s>>28][(s>>20)&0xFF]++
	}
}

func (f *symbolCounts) merge(g *symbolCounts) {
	for t := range f {
		for s := range f[t] {
			f[t][s] += g[t][s]
		}
	}
}

// tables builds optimal codes for the used tables and their DHT segment.
func (f *symbolCounts) tables(used [4]bool) ([4]huffCode, []byte) {
	var codes [4]huffCode
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
	return codes, dht
}

// emitSymbols appends the entropy-coded symbols, with a restart marker
// before each index listed in rst, padded to a byte at the end.
func emitSymbols(out []byte, syms []uint32, rst []int, codes *[4]huffCode) []byte {
	w := bitWriter{out: out}
	r, from := 0, 0
	for r < len(rst) {
		w.symbols(syms[from:rst[r]], codes)
		w.flush()
		w.out = append(w.out, 0xFF, 0xD0+byte(r%8))
		from = rst[r]
		r++
	}
	w.symbols(syms[from:], codes)
	w.flush()
	return w.out
}

// symbols writes syms (table<<28 | symbol<<20 | extraBits<<16 | extraValue)
// with codes.
func (w *bitWriter) symbols(syms []uint32, codes *[4]huffCode) {
	for _, s := range syms {
		t, sym, n, v := s>>28, (s>>20)&0xFF, (s>>16)&0xF, s&0xFFFF
		c := &codes[t]
		w.emit(uint32(c.code[sym]), uint32(c.size[sym]))
		if n > 0 {
			w.emit(v, n)
		}
	}
}

type jpegFile struct {
	data               []byte
	dhtStart, dhtEnd   int // the DHT segments (contiguous in image/jpeg output)
	scanStart, scanEnd int
	comps              []struct{ h, v, dc, ac int }
	mcusX, mcusY       int
	restart            int
	tables             [4]*huffDecoder
	used               [4]bool
}

// lutBits is the lookahead of huffDecoder's table.
const lutBits = 12

// huffDecoder decodes canonical codes: a 12-bit lookahead table for short
// codes, and the maxcode/valptr method of Annex F.2.2.3 for longer ones.
type huffDecoder struct {
	lut     [1 << lutBits]uint16 // length<<8 | symbol; 0 if the code is longer
	maxcode [18]int32
	valptr  [17]int32
	mincode [17]int32
	vals    []byte
}

func parseJPEG(p []byte) (*jpegFile, error) {
	bad := errors.New("huffman: unexpected JPEG layout")
	if len(p) < 4 || p[0] != 0xFF || p[1] != 0xD8 {
		return nil, bad
	}
	j := &jpegFile{data: p, dhtStart: -1}
	var w, h int
	i := 2
	for {
		if i+4 > len(p) || p[i] != 0xFF {
			return nil, bad
		}
		m := p[i+1]
		n := int(binary.BigEndian.Uint16(p[i+2:]))
		if i+2+n > len(p) || n < 2 {
			return nil, bad
		}
		seg := p[i+4 : i+2+n]
		switch m {
		case 0xC0:
			if len(seg) < 6 || seg[0] != 8 {
				return nil, bad
			}
			h, w = int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
			nc := int(seg[5])
			if len(seg) < 6+3*nc || (nc != 1 && nc != 3) {
				return nil, bad
			}
			for c := range nc {
				hv := seg[6+3*c+1]
				j.comps = append(j.comps, struct{ h, v, dc, ac int }{int(hv >> 4), int(hv & 15), 0, 0})
			}
		case 0xC4:
			if j.dhtStart < 0 {
				j.dhtStart = i
			} else if j.dhtEnd != i {
				return nil, bad
			}
			j.dhtEnd = i + 2 + n
			for len(seg) > 0 {
				if len(seg) < 17 {
					return nil, bad
				}
				class, id := int(seg[0]>>4), int(seg[0]&15)
				if class > 1 || id > 1 {
					return nil, bad
				}
				total := 0
				for _, c := range seg[1:17] {
					total += int(c)
				}
				if len(seg) < 17+total {
					return nil, bad
				}
				d := &huffDecoder{vals: bytes.Clone(seg[17 : 17+total])}
				code, k := int32(0), 0
				for l := 1; l <= 16; l++ {
					d.maxcode[l] = -1
					if n := int32(seg[l]); n > 0 {
						if code+n > 1<<l {
							return nil, bad // more codes than the length allows
						}
						d.valptr[l], d.mincode[l] = int32(k), code
						for range n {
							if l <= lutBits {
								for x := code << (lutBits - l); x < (code+1)<<(lutBits-l); x++ {
									d.lut[x] = uint16(l)<<8 | uint16(d.vals[k])
								}
							}
							code++
							k++
						}
						d.maxcode[l] = code - 1
					}
					code <<= 1
				}
				d.maxcode[17] = 1 << 30
				j.tables[id*2+class] = d
				seg = seg[17+total:]
			}
		case 0xDD:
			if len(seg) < 2 {
				return nil, bad
			}
			j.restart = int(binary.BigEndian.Uint16(seg))
		case 0xDA:
			if len(seg) < 1 {
				return nil, bad
			}
			ns := int(seg[0])
			if ns != len(j.comps) || len(seg) < 1+2*ns+3 {
				return nil, bad
			}
			for c := range ns {
				t := seg[1+2*c+1]
				j.comps[c].dc, j.comps[c].ac = int(t>>4), int(t&15)
				if j.comps[c].dc > 1 || j.comps[c].ac > 1 {
					return nil, bad
				}
			}
			j.scanStart = i + 2 + n
			j.scanEnd = len(p) - 2
			if p[len(p)-2] != 0xFF || p[len(p)-1] != 0xD9 || j.dhtStart < 0 || w == 0 {
				return nil, bad
			}
			// Only the layouts image/jpeg writes: grey, or YCbCr 4:2:0.
			if len(j.comps) == 3 && (j.comps[0].h != 2 || j.comps[0].v != 2 ||
				j.comps[1].h != 1 || j.comps[1].v != 1 || j.comps[2].h != 1 || j.comps[2].v != 1) {
				return nil, bad
			}
			hmax, vmax := 1, 1
			for _, c := range j.comps {
				hmax, vmax = max(hmax, c.h), max(vmax, c.v)
			}
			if len(j.comps) == 1 { // non-interleaved: one block per MCU
				j.comps[0].h, j.comps[0].v = 1, 1
				hmax, vmax = 1, 1
			}
			j.mcusX, j.mcusY = (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
			return j, nil
		}
		i += 2 + n
	}
}

// decodeSymbols reads every Huffman symbol of the scan as
// table<<28 | symbol<<20 | extraBits<<16 | extraValue, and the symbol
// index at which each restart marker stood.
func (j *jpegFile) decodeSymbols() ([]uint32, []int, error) {
	bad := errors.New("huffman: corrupt scan")
	r := bitReader{p: j.data[j.scanStart:j.scanEnd]}
	// Symbols average about four bits: two per byte of scan, allocated
	// once (growing a slice of this size would leave large garbage).
	syms := make([]uint32, 0, 2*(j.scanEnd-j.scanStart)+64)
	var rst []int
	mcus := j.mcusX * j.mcusY
	for mcu := range mcus {
		if j.restart > 0 && mcu > 0 && mcu%j.restart == 0 {
			if !r.marker() {
				return nil, nil, bad
			}
			rst = append(rst, len(syms))
		}
		for _, c := range j.comps {
			dcT, acT := c.dc*2, c.ac*2+1
			j.used[dcT], j.used[acT] = true, true
			for range c.h * c.v {
				s, ok := r.symbol(j.tables[dcT])
				if !ok || s > 11 {
					return nil, nil, bad
				}
				v, ok := r.bits(uint32(s))
				if !ok {
					return nil, nil, bad
				}
				syms = append(syms, uint32(dcT)<<28|uint32(s)<<20|uint32(s)<<16|v)
				for k := 1; k < 64; {
					s, ok := r.symbol(j.tables[acT])
					if !ok {
						return nil, nil, bad
					}
					size := uint32(s & 15)
					v, ok := r.bits(size)
					if !ok {
						return nil, nil, bad
					}
					syms = append(syms, uint32(acT)<<28|uint32(s)<<20|size<<16|v)
					if s == 0x00 {
						break
					}
					// Baseline allows only EOB (0x00) and ZRL (0xF0) with no
					// magnitude bits (decoders read other R/0 differently),
					// and no run past the last coefficient.
					if size == 0 && s != 0xF0 {
						return nil, nil, bad
					}
					k += int(s>>4) + 1
					if k > 64 {
						return nil, nil, bad
					}
				}
			}
		}
	}
	return syms, rst, nil
}

type bitReader struct {
	p     []byte
	i     int
	acc   uint32
	nbits uint32
}

func (r *bitReader) fill() bool {
	for r.nbits <= 24 {
		if r.i >= len(r.p) {
			return r.nbits > 0
		}
		b := r.p[r.i]
		if b == 0xFF {
			if r.i+1 < len(r.p) && r.p[r.i+1] == 0x00 {
				r.i += 2
			} else {
				return r.nbits > 0 // a marker: stop before it
			}
		} else {
			r.i++
		}
		r.acc |= uint32(b) << (24 - r.nbits)
		r.nbits += 8
	}
	return true
}

func (r *bitReader) bits(n uint32) (uint32, bool) {
	if n == 0 {
		return 0, true
	}
	if r.nbits < n && (!r.fill() || r.nbits < n) {
		return 0, false
	}
	v := r.acc >> (32 - n)
	r.acc <<= n
	r.nbits -= n
	return v, true
}

func (r *bitReader) symbol(d *huffDecoder) (byte, bool) {
	if d == nil {
		return 0, false
	}
	if r.nbits < 16 {
		r.fill()
	}
	if r.nbits >= lutBits {
		if e := d.lut[r.acc>>(32-lutBits)]; e != 0 {
			l := uint32(e >> 8)
			r.acc <<= l
			r.nbits -= l
			return byte(e), true
		}
	}
	code := int32(0)
	for l := 1; l <= 16; l++ {
		b, ok := r.bits(1)
		if !ok {
			return 0, false
		}
		code = code<<1 | int32(b)
		if code <= d.maxcode[l] {
			i := d.valptr[l] + code - d.mincode[l]
			if i < 0 || int(i) >= len(d.vals) {
				return 0, false
			}
			return d.vals[i], true
		}
	}
	return 0, false
}

// marker skips the padding bits and an RSTn marker.
func (r *bitReader) marker() bool {
	r.acc, r.nbits = 0, 0
	if r.i+1 < len(r.p) && r.p[r.i] == 0xFF && r.p[r.i+1] >= 0xD0 && r.p[r.i+1] <= 0xD7 {
		r.i += 2
		return true
	}
	return false
}

type bitWriter struct {
	out   []byte
	acc   uint32
	nbits uint32
}

func (w *bitWriter) emit(bits, n uint32) {
	bits &= 1<<n - 1
	w.acc |= bits << (32 - n - w.nbits)
	w.nbits += n
	for w.nbits >= 8 {
		b := byte(w.acc >> 24)
		if b == 0xFF {
			w.out = append(w.out, 0xFF, 0)
		} else {
			w.out = append(w.out, b)
		}
		w.acc <<= 8
		w.nbits -= 8
	}
}

// flush pads the last byte with 1 bits.
func (w *bitWriter) flush() {
	if w.nbits > 0 {
		w.emit(0x7F, 8-w.nbits)
	}
}

type huffCode struct {
	code [256]uint16
	size [256]uint8
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
	sort.Slice(order, func(a, b int) bool {
		if order[a].size != order[b].size {
			return order[a].size < order[b].size
		}
		return order[a].sym < order[b].sym
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
