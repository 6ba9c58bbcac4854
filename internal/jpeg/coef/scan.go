// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package coef

// Specified in section B.2.3.
//
// Unlike image/jpeg's, it keeps every block's coefficients (for Check of a
// sequential image, none: see checkOnly), and the blocks
// of a sequential scan or a progressive band's first scan are decoded by
// decodeBlock (with a fast path) rather than inline. At a restart marker
// (and after the scan) there are no overshot bytes to give back: the bit
// reader never loads a marker (fillBits), so the next bytes are the marker
// or, for damaged input, extra data that findRST (or decode's scan for the
// next marker) skips exactly as image/jpeg does. It also builds the AC
// tables' fastAC for the scan (decodeBlock's look-ups), and finds each
// block's place by counting rather than by image/jpeg's two divisions per
// block (the same places).
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]struct {
		compIndex uint8
		td        uint8 // DC table selector.
		ta        uint8 // AC table selector.
	}
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = uint8(compIndex)
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v

		// The baseline t <= 1 restriction is specified in table B.3.
		scan[i].td = d.tmp[2+2*i] >> 4
		if t := scan[i].td; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Td value")
		}
		scan[i].ta = d.tmp[2+2*i] & 0x0f
		if t := scan[i].ta; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Ta value")
		}
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10.
	if d.nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For progressive JPEGs, these are the two more-or-less independent
	// aspects of progression. Spectral selection progression is when not
	// all of a block's 64 DCT coefficients are transmitted in one pass.
	// For example, three passes could transmit coefficient 0 (the DC
	// component), coefficients 1-5, and coefficients 6-63, in zig-zag
	// order. Successive approximation is when not all of the bits of a
	// band of coefficients are transmitted in one pass. For example,
	// three passes could transmit the 6 most significant bits, followed
	// by the second-least significant bit, followed by the least
	// significant bit.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
	}

	// mxx and myy are the number of MCUs (Minimum Coded Units) in the image.
	h0, v0 := d.comp[0].h, d.comp[0].v // The h and v values from the Y components.
	mxx := (d.width + 8*h0 - 1) / (8 * h0)
	myy := (d.height + 8*v0 - 1) / (8 * v0)
	// Every mode keeps the coefficients (image/jpeg keeps them only for
	// progressive images and reconstructs sequential blocks at once),
	// except a check of a sequential image (checkOnly), which decodes each
	// block into d.scratch: no later scan reads it.
	keep := !d.checkOnly || d.progressive
	for i := 0; i < nComp; i++ {
		compIndex := scan[i].compIndex
		if !d.coded[compIndex] {
			n := mxx * myy * d.comp[compIndex].h * d.comp[compIndex].v
			if n > maxBlocks {
				return UnsupportedError("image too large")
			}
			if keep {
				d.coeffs[compIndex] = takeBlocks(n)
			}
			d.coded[compIndex] = true
		}
	}

	// The AC tables' fastAC, built for the first scan that decodes AC
	// coefficients with them, and again for one with another Al
	// (decodeBlock stores its coefficients as they are: the first scan of
	// a progressive band may have Al > 0).
	if ah == 0 && zigEnd > 0 {
		for i := 0; i < nComp; i++ {
			if ta := scan[i].ta; d.huff[acTable][ta].canonical && d.fastACAl[ta] != int32(al) {
				d.fastAC[ta].build(&d.huff[acTable][ta], al)
				d.fastACAl[ta] = int32(al)
			}
		}
	}

	d.bits = bits{}
	mcu, expectedRST := 0, uint8(rst0Marker)
	var (
		// b is the block being decoded, in place, in zig-zag order.
		b  *Block
		dc [maxComponents]int32
		// bx and by are the location of the current block, in units of 8x8
		// blocks: the third block in the first row has (bx, by) = (2, 0).
		bx, by int
		// nextX and nextY are the location of a non-interleaved scan's
		// next block (image/jpeg: blockCount%q and blockCount/q).
		nextX, nextY int
	)
	for my := 0; my < myy; my++ {
		for mx := 0; mx < mxx; mx++ {
			for i := 0; i < nComp; i++ {
				compIndex := scan[i].compIndex
				hi := d.comp[compIndex].h
				vi := d.comp[compIndex].v
				// jx, jy are j%hi, j/hi (kept without dividing).
				for j, jx, jy := 0, 0, 0; j < hi*vi; j, jx = j+1, jx+1 {
					if jx == hi {
						jx, jy = 0, jy+1
					}
					// The blocks are traversed one MCU at a time. For 4:2:0 chroma
					// subsampling, there are four Y 8x8 blocks in every 16x16 MCU.
					//
					// For a sequential 32x16 pixel image, the Y blocks visiting order is:
					//	0 1 4 5
					//	2 3 6 7
					//
					// For progressive images, the interleaved scans (those with nComp > 1)
					// are traversed as above, but non-interleaved scans are traversed left
					// to right, top to bottom:
					//	0 1 2 3
					//	4 5 6 7
					// Only DC scans (zigStart == 0) can be interleaved. AC scans must have
					// only one component.
					//
					// To further complicate matters, for non-interleaved scans, there is no
					// data for any blocks that are inside the image at the MCU level but
					// outside the image at the pixel level. For example, a 24x16 pixel 4:2:0
					// progressive image consists of two 16x16 MCUs. The interleaved scans
					// will process 8 Y blocks:
					//	0 1 4 5
					//	2 3 6 7
					// The non-interleaved scans will process only 6 Y blocks:
					//	0 1 2
					//	3 4 5
					if nComp != 1 {
						bx = hi*mx + jx
						by = vi*my + jy
					} else {
						// image/jpeg's blockCount%q and blockCount/q
						// (q = mxx*hi), counted without dividing.
						bx, by = nextX, nextY
						if nextX++; nextX == mxx*hi {
							nextX, nextY = 0, nextY+1
						}
						if bx*8 >= d.width || by*8 >= d.height {
							continue
						}
					}

					// The stored coefficients: zero for a sequential scan, the
					// state so far for a progressive one.
					if keep {
						b = &d.coeffs[compIndex][by*mxx*hi+bx]
					} else {
						b = &d.scratch
					}

					if ah != 0 {
						if err := d.refine(b, &d.huff[acTable][scan[i].ta], zigStart, zigEnd, 1<<al); err != nil {
							return err
						}
					} else if err := d.decodeBlock(b, &d.huff[dcTable][scan[i].td], &d.huff[acTable][scan[i].ta], &d.fastAC[scan[i].ta], &dc[compIndex], zigStart, zigEnd, al); err != nil {
						return err
					}

				} // for j
			} // for i
			mcu++
			if d.ri > 0 && mcu%d.ri == 0 && mcu < mxx*myy {
				// For well-formed input, the RST[0-7] restart marker follows
				// immediately. For corrupt input, call findRST to try to
				// resynchronize.
				if err := d.readFull(d.tmp[:2]); err != nil {
					return err
				} else if d.tmp[0] != 0xff || d.tmp[1] != expectedRST {
					if err := d.findRST(expectedRST); err != nil {
						return err
					}
				}
				expectedRST++
				if expectedRST == rst7Marker+1 {
					expectedRST = rst0Marker
				}
				// Reset the Huffman decoder.
				d.bits = bits{}
				// Reset the DC components, as per section F.2.1.3.1.
				dc = [maxComponents]int32{}
				// Reset the progressive decoder state, as per section G.1.2.2.
				d.eobRun = 0
			}
		} // for mx
	} // for my

	return nil
}

// decodeBlock decodes a block of a sequential scan or the first scan of a
// progressive band into b: image/jpeg's code, moved out of processSOS,
// with a fast path. While the accumulator holds 32 bits (the longest code
// and its extra bits) and the tables are prefix codes, each coefficient is
// decoded from a local copy of the accumulator (refilled by refill,
// fillBits' fast case, inlined), the AC coefficients by decodeFastAC, and
// the DC coefficient's code and bits without a call; near the end of a
// segment, or with an over-subscribed table, it takes image/jpeg's path
// (decodeHuffman, receiveExtend, decodeBits), which gives the same
// coefficients and errors.
//
// Every variable shift count is masked (&63, &31) where it is known to be
// smaller anyway (a code and its bits are at most 32 bits, Al is a 4-bit
// field), so the compiler emits a bare shift instead of Go's handling of
// counts of 64 and more.
func (d *decoder) decodeBlock(b *Block, dcH, acH *huffman, acFast *fastAC, dc *int32, zigStart, zigEnd int32, al uint32) error {
	al &= 15 // SOS's Al is 4 bits
	a, n := d.bits.a, d.bits.n
	zig := zigStart
	if zig == 0 {
		zig++
		// Decode the DC coefficient, as specified in section F.2.2.1.
		if n < 32 {
			a, n = d.refillLocal(a, n)
		}
		if v := dcH.lut[a>>(64-lutSize)]; v != 0 && n >= 32 && dcH.canonical {
			// The code and its value's bits (at most lutSize + 16) are there.
			l := v & 0xff
			a <<= l & 63
			n -= int32(l)
			t := v >> 8
			if t > 16 {
				return UnsupportedError("excessive DC component")
			}
			// receiveExtend without a branch on the sign; 0 when t is 0.
			neg := int32(^int64(a) >> 63)
			x := int32(a>>32>>((32-t)&63)) + neg&((-1<<(t&31))+1)
			a <<= t & 63
			n -= int32(t)
			*dc += x
		} else {
			d.bits.a, d.bits.n = a, n
			value, err := d.decodeHuffman(dcH)
			if err != nil {
				return err
			}
			if value > 16 {
				return UnsupportedError("excessive DC component")
			}
			dcDelta, err := d.receiveExtend(value)
			if err != nil {
				return err
			}
			*dc += dcDelta
			a, n = d.bits.a, d.bits.n
		}
		b[0] = int16(*dc << al)
	}

	if zig <= zigEnd && d.eobRun > 0 {
		d.eobRun--
		d.bits.a, d.bits.n = a, n
		return nil
	}
	// Decode the AC coefficients, as specified in section F.2.2.2.
	if !acH.canonical {
		d.bits.a, d.bits.n = a, n
		return d.decodeACSlow(b, acH, zig, zigEnd, al)
	}
	for ; zig <= zigEnd; zig++ {
		a, n, zig = d.decodeFastAC(b, acFast, a, n, zig, zigEnd)
		if zig > zigEnd {
			break
		}
		if n < 32 {
			if a, n = d.refillLocal(a, n); n < 32 {
				d.bits.a, d.bits.n = a, n
				return d.decodeACSlow(b, acH, zig, zigEnd, al)
			}
		}
		var value uint8
		if v := acH.lut[a>>(64-lutSize)]; v != 0 {
			l := v & 0xff
			a <<= l & 63
			n -= int32(l)
			value = uint8(v >> 8)
		} else {
			d.bits.a, d.bits.n = a, n
			var err error
			if value, err = d.decodeHuffman(acH); err != nil {
				return err
			}
			a, n = d.bits.a, d.bits.n
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig > zigEnd {
				break
			}
			// receiveExtend, without a branch on the sign: at least 16
			// bits are left. The value is negative when its first bit is 0.
			neg := int32(^int64(a) >> 63)
			x := int32(a>>(64-val1)) + neg&(((-1)<<val1)+1)
			a <<= val1
			n -= int32(val1)
			b[zig&(blockSize-1)] = int16(x << al) // zig <= zigEnd < blockSize
		} else {
			if val0 != 0x0f {
				d.eobRun = uint16(1 << val0)
				if val0 != 0 {
					// decodeBits: at least 16 bits are left.
					d.eobRun |= uint16(a >> (64 - val0))
					a <<= val0
					n -= int32(val0)
				}
				d.eobRun--
				break
			}
			zig += 0x0f
		}
	}
	d.bits.a, d.bits.n = a, n
	return nil
}

// refillLocal is fillBits for a caller that keeps the accumulator in
// local variables: refill, or else fillBits.
func (d *decoder) refillLocal(a uint64, n int32) (uint64, int32) {
	a, n, ok := d.refill(a, n)
	if !ok {
		d.bits.a, d.bits.n = a, n
		d.fillBits()
		a, n = d.bits.a, d.bits.n
	}
	return a, n
}

// decodeFastAC decodes AC coefficients into b from zig on, one or two
// per fastAC look-up, while they are fastAC hits, and returns the
// accumulator and the next zig: past zigEnd when the band is done (an
// end-of-band code with no run, EOB0, ends it too: fastAC marks its code
// eobFastAC), otherwise at the first coefficient that is no hit (a run
// past zigEnd, a run of end-of-bands, a zero run, a longer code) or where
// the accumulator holds fewer than lutSize bits and refill cannot add
// more. It makes no call, so that its loop, the hottest of the decoder,
// keeps every value in a register.
//
// It decodes what image/jpeg's loop would: a fastAC entry is only the
// coefficients that loop finds in the same bits, the second only when
// the first is not at zigEnd; EOB0 sets image/jpeg's eobRun to 1<<0 and
// takes 1 from it: no change.
func (d *decoder) decodeFastAC(b *Block, fastAC *fastAC, a uint64, n int32, zig, zigEnd int32) (uint64, int32, int32) {
	for {
		// An entry holds at most lutSize bits: with n of them, whatever
		// it resolves is real (bits below n are zero).
		if n < lutSize {
			var ok bool
			if a, n, ok = d.refill(a, n); !ok {
				return a, n, zig
			}
		}
		// One or two whole codes and their coefficients in one look-up,
		// unless the first's run goes past zigEnd (then its extra bits are
		// not read) or the entry is noFastAC or eobFastAC (whose runs
		// always do). Once zig is past zigEnd, so is z.
		f := fastAC[a>>(64-lutSize)]
		z := zig + int32(f>>8&0xff)
		if z > zigEnd {
			if f&^0xff == eobFastAC && zig <= zigEnd {
				l := f & 63
				a <<= l
				n -= int32(l)
				zig = zigEnd + 1
			}
			return a, n, zig
		}
		b[z&(blockSize-1)] = int16(f >> 32) // shifted by Al: fastAC.build
		if z2 := z + int32(f>>16&0xff); z2 <= zigEnd {
			// The second coefficient (or, with none, the first again).
			b[z2&(blockSize-1)] = int16(f >> 48)
			zig = z2 + 1
			l := f & 63 // the codes and their bits are at most lutSize long
			a <<= l
			n -= int32(l)
		} else {
			// The second coefficient is past the band: the first alone.
			zig = z + 1
			l := f >> 24 & 63
			a <<= l
			n -= int32(l)
		}
	}
}

// decodeACSlow is image/jpeg's loop for the AC coefficients of decodeBlock,
// from zig on.
func (d *decoder) decodeACSlow(b *Block, huff *huffman, zig, zigEnd int32, al uint32) error {
	for ; zig <= zigEnd; zig++ {
		value, err := d.decodeHuffman(huff)
		if err != nil {
			return err
		}
		val0 := value >> 4
		val1 := value & 0x0f
		if val1 != 0 {
			zig += int32(val0)
			if zig > zigEnd {
				break
			}
			ac, err := d.receiveExtend(val1)
			if err != nil {
				return err
			}
			b[zig] = int16(ac << al)
		} else {
			if val0 != 0x0f {
				d.eobRun = uint16(1 << val0)
				if val0 != 0 {
					bits, err := d.decodeBits(int32(val0))
					if err != nil {
						return err
					}
					d.eobRun |= uint16(bits)
				}
				d.eobRun--
				break
			}
			zig += 0x0f
		}
	}
	return nil
}

// refine decodes a successive approximation refinement block, as specified in
// section G.1.2.
func (d *decoder) refine(b *Block, h *huffman, zigStart, zigEnd, delta int32) error {
	// Refining a DC component is trivial.
	if zigStart == 0 {
		if zigEnd != 0 {
			panic("unreachable")
		}
		bit, err := d.decodeBit()
		if err != nil {
			return err
		}
		if bit {
			b[0] |= int16(delta)
		}
		return nil
	}

	// Refining AC components is more complicated; see sections G.1.2.2 and G.1.2.3.
	zig := zigStart
	if d.eobRun == 0 {
	loop:
		for ; zig <= zigEnd; zig++ {
			z := int32(0)
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			val0 := value >> 4
			val1 := value & 0x0f

			switch val1 {
			case 0:
				if val0 != 0x0f {
					d.eobRun = uint16(1 << val0)
					if val0 != 0 {
						bits, err := d.decodeBits(int32(val0))
						if err != nil {
							return err
						}
						d.eobRun |= uint16(bits)
					}
					break loop
				}
			case 1:
				z = delta
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if !bit {
					z = -z
				}
			default:
				return FormatError("unexpected Huffman code")
			}

			zig, err = d.refineNonZeroes(b, zig, zigEnd, int32(val0), delta)
			if err != nil {
				return err
			}
			if zig > zigEnd {
				return FormatError("too many coefficients")
			}
			if z != 0 {
				b[zig] = int16(z)
			}
		}
	}
	if d.eobRun > 0 {
		d.eobRun--
		if _, err := d.refineNonZeroes(b, zig, zigEnd, -1, delta); err != nil {
			return err
		}
	}
	return nil
}

// refineNonZeroes refines non-zero entries of b in zig-zag order. If nz >= 0,
// the first nz zero entries are skipped over.
//
// It reads its bits as image/jpeg's decodeBit does, written out in the
// loop (decodeBit is not inlined): this is the hot loop of a progressive
// image's refinement scans.
func (d *decoder) refineNonZeroes(b *Block, zig, zigEnd, nz, delta int32) (int32, error) {
	for ; zig <= zigEnd; zig++ {
		u := zig
		if b[u] == 0 {
			if nz == 0 {
				break
			}
			nz--
			continue
		}
		if d.bits.n == 0 {
			if err := d.ensureNBits(1); err != nil {
				return 0, err
			}
		}
		bit := d.bits.a >> 63
		d.bits.a <<= 1
		d.bits.n--
		if bit == 0 {
			continue
		}
		if b[u] >= 0 {
			b[u] += int16(delta)
		} else {
			b[u] -= int16(delta)
		}
	}
	return zig, nil
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
// https://github.com/libjpeg-turbo/libjpeg-turbo/blob/2dfe6c0fe9e18671105e94f7cbf044d4a1d157e6/jdmarker.c#L892-L935
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. Until we see evidence that recovering from such
				// cases is frequent enough to be worth the complexity, we take
				// a simpler approach for now. Any marker that's not 0x00, 0xff
				// or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
