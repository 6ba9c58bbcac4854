// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package coef

import (
	"encoding/binary"
)

// maxCodeLength is the maximum (inclusive) number of bits in a Huffman code.
const maxCodeLength = 16

// maxNCodes is the maximum (inclusive) number of codes in a Huffman tree.
const maxNCodes = 256

// lutSize is the log-2 size of the Huffman decoder's look-up tables. It is
// 8 in image/jpeg, where every longer code takes a bit-by-bit path; with
// 11 nearly every code of a photo's tables resolves in one look-up, and
// fastAC resolves two coefficients at once more often than with 10 (a
// quality-90 photo is checked about 9% faster), while the decoder (about
// 100 KiB, most of it the four AC tables' fastAC) still fits on the stack.
const lutSize = 11

// huffman is a Huffman decoder, specified in section C.
type huffman struct {
	// length is the number of codes in the tree.
	nCodes int32
	// canonical is true when the code lengths fit a prefix code (no
	// length is over-subscribed, as libjpeg requires of every table).
	// Only then does every way of decoding give the same symbols: for an
	// over-subscribed table image/jpeg's 8-bit look-up table and its
	// bit-by-bit path disagree, so such a table is decoded exactly as
	// image/jpeg does, look-up table and all (decodeHuffman).
	canonical bool
	// lut is the look-up table for the next lutSize bits in the bit-stream
	// (the next 8 bits, in lut[:256], when !canonical). The high 8 bits of
	// the uint16 are the encoded value. The low 8 bits are the code length
	// (image/jpeg: 1 plus the code length), or 0 if the value is too large
	// to fit in lutSize bits.
	lut [1 << lutSize]uint16
	// vals are the decoded values, sorted by their encoding.
	vals [maxNCodes]uint8
	// minCodes[i] is the minimum code of length i, or -1 if there are no
	// codes of that length.
	minCodes [maxCodeLength]int32
	// maxCodes[i] is the maximum code of length i, or -1 if there are no
	// codes of that length.
	maxCodes [maxCodeLength]int32
	// valsIndices[i] is the index into vals of minCodes[i].
	valsIndices [maxCodeLength]int32
}

// fastAC, for a prefix code of an AC table, resolves in one look-up the
// next lutSize bits when they hold a whole code for a non-zero coefficient
// and that coefficient's extra bits, and, when the bits after those hold a
// second such code and its bits, that coefficient too (image/jpeg has no
// such table). An entry is, from the low bits:
//
//	bits 0-7    the bits the coefficients use (both, if two)
//	bits 8-15   the run of zeroes before the first coefficient
//	bits 16-23  1 + the run of zeroes before the second, 0 if none
//	bits 24-31  the bits the first coefficient uses
//	bits 32-47  the first coefficient as decodeBlock stores it:
//	            int16(value<<Al), for the Al it was built for
//	bits 48-63  the second coefficient (the first again if none)
//
// or noFastAC, or eobFastAC for the code of an end of band with no run.
type fastAC [1 << lutSize]uint64

// noFastAC is a fastAC entry for bits that do not start with a whole code
// of a non-zero coefficient and its extra bits: its run of 255 zeroes takes
// the decoder past any zigEnd, so one comparison rejects both this and a
// real run that goes past the band.
const noFastAC = 0xff << 8

// eobFastAC | the code's length is the fastAC entry for bits that start
// with the code of EOB0 (an end of band with no run): its run, too, takes
// the decoder past any zigEnd (decodeFastAC).
const eobFastAC = 0xfe << 8

// errShortHuffmanData means that an unexpected EOF occurred while decoding
// Huffman data.
var errShortHuffmanData = FormatError("short Huffman data")

// fillBits loads bytes into the accumulator until it holds more than 56
// bits or the entropy-coded segment ends: at a marker (0xff not followed
// by 0x00) or at the end of the input. The bits it loads are exactly those
// image/jpeg's byte-at-a-time ensureNBits would eventually read, so a read
// of k bits succeeds iff d.bits.n >= k after a fill. It never loads a
// marker byte, which is why nothing needs to be unread afterwards.
//
// image/jpeg reads one byte per call, through readByteStuffedByte; here 7
// or more bytes are loaded at once when the next 8 hold no 0xff.
func (d *decoder) fillBits() {
	a, n, ok := d.refill(d.bits.a, d.bits.n)
	if ok {
		d.bits.a, d.bits.n = a, n
		return
	}
	buf, i, j := d.bytes.buf, d.bytes.i, d.bytes.j
	for n <= 56 && i < j {
		c := buf[i]
		if c == 0xff {
			if i+1 >= j || buf[i+1] != 0x00 {
				break
			}
			i++
		}
		i++
		a |= uint64(c) << uint(56-n)
		n += 8
	}
	d.bits.a, d.bits.n = a, n
	d.bytes.i = i
}

// refill is fillBits' fast case, small enough to be inlined where the
// caller keeps the accumulator (a, n) in local variables: when the next 8
// bytes of input hold no 0xff, it loads the whole bytes that fit,
// (63-n)/8 of them, after which n is n|56, and reports true; otherwise it
// changes nothing and reports false, and the caller calls fillBits, which
// loads the bytes one at a time.
func (d *decoder) refill(a uint64, n int32) (uint64, int32, bool) {
	rest := d.bytes.buf[d.bytes.i:] // d.bytes.j is len(d.bytes.buf)
	if len(rest) < 8 {
		return a, n, false
	}
	w := binary.BigEndian.Uint64(rest)
	// Whether a byte of w is 0xff: a zero byte of ^w.
	if x := ^w; (x-0x0101010101010101)&^x&0x8080808080808080 != 0 {
		return a, n, false
	}
	d.bytes.i += int((63 - n) >> 3)
	return a | (w>>uint(n&63))&^(^uint64(0)>>uint((n|56)&63)), n | 56, true
}

// endOfSegment is the error of a read past the bits fillBits could load:
// what image/jpeg's readByteStuffedByte reports at that point.
func (d *decoder) endOfSegment() error {
	if i := d.bytes.i; i+1 < d.bytes.j && d.bytes.buf[i] == 0xff {
		return errMissingFF00
	}
	return errShortHuffmanData
}

// ensureNBits makes sure that d.bits.n is at least n, or reports the end
// of the segment. For best performance (avoiding function calls inside hot
// loops), the caller is the one responsible for first checking that
// d.bits.n < n.
func (d *decoder) ensureNBits(n int32) error {
	d.fillBits()
	if d.bits.n < n {
		return d.endOfSegment()
	}
	return nil
}

// receiveExtend is the composition of RECEIVE and EXTEND, specified in section
// F.2.2.1. It differs from image/jpeg's only in taking the bits from the
// top of the 64-bit accumulator.
func (d *decoder) receiveExtend(t uint8) (int32, error) {
	if d.bits.n < int32(t) {
		if err := d.ensureNBits(int32(t)); err != nil {
			return 0, err
		}
	}
	x := int32(d.bits.a >> (64 - t)) // 0 when t is 0
	d.bits.a <<= t
	d.bits.n -= int32(t)
	if x < int32(1)<<t>>1 {
		x += ((-1) << t) + 1
	}
	return x, nil
}

// processDHT processes a Define Huffman Table marker, and initializes a huffman
// struct from its contents. Specified in section B.2.4.2.
//
// Unlike image/jpeg's, it also decides whether the table is a prefix code
// (h.canonical) and, if so, builds a lutSize-bit look-up table (and
// leaves an AC table's fastAC for processSOS to build) instead of image/jpeg's 8-bit
// one, which it still builds, the same way, for a table that is not.
func (d *decoder) processDHT(n int) error {
	for n > 0 {
		if n < 17 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(d.tmp[:17]); err != nil {
			return err
		}
		tc := d.tmp[0] >> 4
		if tc > maxTc {
			return FormatError("bad Tc value")
		}
		th := d.tmp[0] & 0x0f
		// The baseline th <= 1 restriction is specified in table B.5.
		if th > maxTh || (d.baseline && th > 1) {
			return FormatError("bad Th value")
		}
		h := &d.huff[tc][th]

		// Read nCodes and h.vals (and derive h.nCodes).
		// nCodes[i] is the number of codes with code length i.
		// h.nCodes is the total number of codes.
		h.nCodes = 0
		var nCodes [maxCodeLength]int32
		for i := range nCodes {
			nCodes[i] = int32(d.tmp[i+1])
			h.nCodes += nCodes[i]
		}
		if h.nCodes == 0 {
			return FormatError("Huffman table has zero length")
		}
		if h.nCodes > maxNCodes {
			return FormatError("Huffman table has excessive length")
		}
		n -= int(h.nCodes) + 17
		if n < 0 {
			return FormatError("DHT has wrong length")
		}
		if err := d.readFull(h.vals[:h.nCodes]); err != nil {
			return err
		}

		// Derive minCodes, maxCodes, and valsIndices, and whether the
		// code lengths fit a prefix code.
		var c, index int32
		h.canonical = true
		for i, n := range nCodes {
			if n == 0 {
				h.minCodes[i] = -1
				h.maxCodes[i] = -1
				h.valsIndices[i] = -1
			} else {
				h.minCodes[i] = c
				h.maxCodes[i] = c + n - 1
				h.valsIndices[i] = index
				c += n
				index += n
				if h.maxCodes[i] >= 1<<(i+1) {
					h.canonical = false
				}
			}
			c <<= 1
		}
		if d.exact {
			h.canonical = false
		}

		// Derive the look-up table: lutSize bits wide for a prefix code,
		// image/jpeg's 8-bit one otherwise.
		clear(h.lut[:])
		if h.canonical {
			for i := range lutSize {
				for k := range nCodes[i] {
					code := uint32(h.minCodes[i] + k)
					// Every lutSize-bit sequence that starts with the code.
					base := code << (lutSize - 1 - i)
					lutValue := uint16(h.vals[h.valsIndices[i]+k])<<8 | uint16(1+i)
					for k := range uint32(1) << (lutSize - 1 - i) {
						h.lut[base|k] = lutValue
					}
				}
			}
			if tc == acTable {
				d.fastACAl[th] = -1 // built by processSOS for a scan that needs it
			}
			continue
		}
		var x, code uint32
		for i := uint32(0); i < 8; i++ {
			code <<= 1
			for j := int32(0); j < nCodes[i]; j++ {
				// The codeLength is 1+i, so shift code by 8-(1+i) to
				// calculate the high bits for every 8-bit sequence
				// whose codeLength's high bits matches code.
				// The high 8 bits of lutValue are the encoded value.
				// The low 8 bits are the codeLength.
				base := uint8(code << (7 - i))
				lutValue := uint16(h.vals[x])<<8 | uint16(1+i)
				for k := uint8(0); k < 1<<(7-i); k++ {
					h.lut[base|k] = lutValue
				}
				code++
				x++
			}
		}
	}
	return nil
}

// build fills t for h, a prefix code's AC table, with each coefficient
// shifted left by al, as decodeBlock stores it: first an entry for one
// coefficient (or EOB0) wherever the bits start with its code and extra
// bits, code by code, then the pairs, from those entries.
func (t *fastAC) build(h *huffman, al uint32) {
	for p := range t {
		t[p] = noFastAC
	}
	for l := uint32(1); l <= lutSize; l++ {
		for code := h.minCodes[l-1]; code >= 0 && code <= h.maxCodes[l-1]; code++ {
			sym := h.vals[h.valsIndices[l-1]+code-h.minCodes[l-1]]
			run, size := uint32(sym>>4), uint32(sym&0x0f)
			// The entries that start with the code.
			base := uint32(code) << (lutSize - l)
			if sym == 0 {
				for p := range uint32(1) << (lutSize - l) {
					t[base|p] = eobFastAC | uint64(l)
				}
			}
			if size == 0 || l+size > lutSize {
				continue
			}
			for y := range uint32(1) << size {
				// receiveExtend of the size bits y after the code.
				x := int32(y)
				if x < 1<<(size-1) {
					x += (-1 << size) + 1
				}
				v := uint64(uint16(int16(x << al)))
				f := v<<48 | v<<32 | uint64(l+size)<<24 | uint64(run)<<8 | uint64(l+size)
				// The entries that start with the code and y.
				base := base | y<<(lutSize-l-size)
				for p := range uint32(1) << (lutSize - l - size) {
					t[base|p] = f
				}
			}
		}
	}
	// A one-coefficient entry f followed, in the bits after its l1, by the
	// first coefficient of entry g (a pair's first fields are those of the
	// one-coefficient entry it was made from) that fits in what is left.
	for p := range uint32(len(t)) {
		f := t[p]
		if f>>8&0xff > 15 {
			continue // noFastAC or eobFastAC
		}
		l1 := f >> 24 & 0xff
		g := t[p<<l1&(1<<lutSize-1)]
		l2 := g >> 24 & 0xff
		if g>>8&0xff > 15 || l1+l2 > lutSize {
			continue
		}
		t[p] = g>>32&0xffff<<48 | f&(0xffff<<32) | l1<<24 | (g>>8&0xff+1)<<16 | f&0xff00 | (l1 + l2)
	}
}

// decodeHuffman returns the next Huffman-coded value from the bit-stream,
// decoded according to h.
//
// For a prefix code (h.canonical) any way of finding the code gives
// image/jpeg's symbol, and a code that runs past the end of the segment is
// an error either way, so it looks up lutSize bits and then tries the
// longer lengths. Otherwise it follows image/jpeg exactly: the 8-bit table
// when at least 8 bits remain, then the bit-by-bit path.
func (d *decoder) decodeHuffman(h *huffman) (uint8, error) {
	if h.nCodes == 0 {
		return 0, FormatError("uninitialized Huffman table")
	}
	if d.bits.n < maxCodeLength {
		d.fillBits()
	}
	if h.canonical {
		// After the fill, bits below n are zero: a code found with them
		// is real only if it ends within n.
		a, n := d.bits.a, d.bits.n
		if v := h.lut[a>>(64-lutSize)]; v != 0 {
			l := int32(v & 0xff)
			if l > n {
				return 0, d.endOfSegment()
			}
			d.bits.a <<= l
			d.bits.n -= l
			return uint8(v >> 8), nil
		}
		for l := int32(lutSize + 1); l <= maxCodeLength; l++ {
			if l > n {
				return 0, d.endOfSegment()
			}
			if code := int32(a >> (64 - l)); code <= h.maxCodes[l-1] {
				d.bits.a <<= l
				d.bits.n -= l
				return h.vals[h.valsIndices[l-1]+code-h.minCodes[l-1]], nil
			}
		}
		return 0, FormatError("bad Huffman code")
	}

	if d.bits.n >= 8 {
		if v := h.lut[d.bits.a>>56]; v != 0 {
			n := int32(v & 0xff)
			d.bits.a <<= n
			d.bits.n -= n
			return uint8(v >> 8), nil
		}
	}
	for i, code := 0, int32(0); i < maxCodeLength; i++ {
		if d.bits.n == 0 {
			if err := d.ensureNBits(1); err != nil {
				return 0, err
			}
		}
		code |= int32(d.bits.a >> 63)
		d.bits.a <<= 1
		d.bits.n--
		if code <= h.maxCodes[i] {
			return h.vals[h.valsIndices[i]+code-h.minCodes[i]], nil
		}
		code <<= 1
	}
	return 0, FormatError("bad Huffman code")
}

// decodeBit and decodeBits differ from image/jpeg's only in taking the
// bits from the top of the 64-bit accumulator.
func (d *decoder) decodeBit() (bool, error) {
	if d.bits.n == 0 {
		if err := d.ensureNBits(1); err != nil {
			return false, err
		}
	}
	ret := d.bits.a>>63 != 0
	d.bits.a <<= 1
	d.bits.n--
	return ret, nil
}

func (d *decoder) decodeBits(n int32) (uint32, error) {
	if d.bits.n < n {
		if err := d.ensureNBits(n); err != nil {
			return 0, err
		}
	}
	ret := uint32(d.bits.a >> (64 - n))
	d.bits.a <<= n
	d.bits.n -= n
	return ret, nil
}
