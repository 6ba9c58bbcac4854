// Copyright 2011 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// This file is the pixel half of image/jpeg's writer.go (Go 1.26; see
// README.md): div, toYCbCr, grayToY, rgbaToYCbCr, yCbCrToYCbCr and scale
// are upstream's; pixelRows.row and pixelRows.block are upstream's
// writeSOS and writeBlock, handing the quantised coefficients to
// AppendBlock instead of writing them with the standard's example Huffman
// tables. The coefficients are therefore exactly image/jpeg's (4:2:0 for
// colour, at the same quality), and only the Huffman tables, the JFIF
// segment and the restart markers between strips differ.

package encode

import (
	"context"
	"image"
	"image/color"

	"github.com/gpdoc/gpdoc/internal/jpeg/dct"
)

type block = dct.Block

// div returns a/b rounded to the nearest integer, instead of rounded to zero.
func div(a, b int32) int32 {
	if a >= 0 {
		return (a + (b >> 1)) / b
	}
	return -((-a + (b >> 1)) / b)
}

// EncodeImage encodes img as a baseline JPEG at quality (1 to 100, real;
// see [QuantTables]) with optimal Huffman tables, as image/jpeg would lay
// it out: an *image.Gray as one grey component, anything else as YCbCr
// 4:2:0 (an opaque *image.NRGBA through the fast *image.RGBA path, which
// gives the same coefficients). The image is coded in strips in parallel
// (see [Encode]).
func EncodeImage(ctx context.Context, img image.Image, quality float64) ([]byte, error) {
	if n, ok := img.(*image.NRGBA); ok && n.Opaque() {
		img = &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	b := img.Bounds()
	p := &pixelRows{img: img}
	p.gray, _ = img.(*image.Gray)
	p.rgba, _ = img.(*image.RGBA)
	p.ycc, _ = img.(*image.YCbCr)
	q := QuantTables(quality)
	for i := range q {
		for k := range q[i] {
			p.div[i][k] = 8 * int32(q[i][k])
		}
	}
	f := &Frame{Width: b.Dx(), Height: b.Dy(), Quant: [][64]uint8{q[0]}}
	if p.gray != nil {
		f.Components = []Component{{H: 1, V: 1, Quant: 0, DC: LumaDC, AC: LumaAC}}
	} else {
		f.Quant = append(f.Quant, q[1])
		f.Components = []Component{
			{H: 2, V: 2, Quant: 0, DC: LumaDC, AC: LumaAC},
			{H: 1, V: 1, Quant: 1, DC: ChromaDC, AC: ChromaAC},
			{H: 1, V: 1, Quant: 1, DC: ChromaDC, AC: ChromaAC},
		}
	}
	return Encode(ctx, f, p.row, true)
}

// pixelRows produces the symbols of an image's MCU rows.
type pixelRows struct {
	img  image.Image
	gray *image.Gray
	rgba *image.RGBA
	ycc  *image.YCbCr
	div  [2][64]int32 // 8 times the quantisation steps, in zig-zag order
}

// row is upstream's writeSOS for MCU row my.
func (p *pixelRows) row(w *BlockWriter, my int) error {
	var (
		// Scratch buffers to hold the YCbCr values.
		// The blocks are in natural (not zig-zag) order.
		b      block
		cb, cr [4]block
		err    error
	)
	bounds := p.img.Bounds()
	if p.gray != nil {
		y := bounds.Min.Y + 8*my
		for x := bounds.Min.X; x < bounds.Max.X; x += 8 {
			grayToY(p.gray, image.Pt(x, y), &b)
			if err = p.block(w, &b, 0, 0, LumaDC, LumaAC); err != nil {
				return err
			}
		}
		return nil
	}
	y := bounds.Min.Y + 16*my
	for x := bounds.Min.X; x < bounds.Max.X; x += 16 {
		for i := 0; i < 4; i++ {
			xOff := (i & 1) * 8
			yOff := (i & 2) * 4
			pt := image.Pt(x+xOff, y+yOff)
			if p.rgba != nil {
				rgbaToYCbCr(p.rgba, pt, &b, &cb[i], &cr[i])
			} else if p.ycc != nil {
				yCbCrToYCbCr(p.ycc, pt, &b, &cb[i], &cr[i])
			} else {
				toYCbCr(p.img, pt, &b, &cb[i], &cr[i])
			}
			if err = p.block(w, &b, 0, 0, LumaDC, LumaAC); err != nil {
				return err
			}
		}
		scale(&b, &cb)
		if err = p.block(w, &b, 1, 1, ChromaDC, ChromaAC); err != nil {
			return err
		}
		scale(&b, &cr)
		if err = p.block(w, &b, 1, 2, ChromaDC, ChromaAC); err != nil {
			return err
		}
	}
	return nil
}

// block is upstream's writeBlock: the forward DCT of b (natural order)
// quantised with table q, given to w as component comp's.
func (p *pixelRows) block(w *BlockWriter, b *block, q, comp int, dcT, acT uint32) error {
	dct.FDCT(b)
	var c [64]int32
	var nonzero uint64
	d := &p.div[q]
	for zig := range 64 {
		v := div(b[dct.Unzig[zig]], d[zig])
		c[zig] = v
		nonzero |= uint64(uint32(v|-v)>>31) << zig
	}
	return w.Block(&c, nonzero, comp, dcT, acT)
}

// toYCbCr converts the 8x8 region of m whose top-left corner is p to its
// YCbCr values.
func toYCbCr(m image.Image, p image.Point, yBlock, cbBlock, crBlock *block) {
	b := m.Bounds()
	xmax := b.Max.X - 1
	ymax := b.Max.Y - 1
	for j := 0; j < 8; j++ {
		for i := 0; i < 8; i++ {
			r, g, b, _ := m.At(min(p.X+i, xmax), min(p.Y+j, ymax)).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
			yBlock[8*j+i] = int32(yy)
			cbBlock[8*j+i] = int32(cb)
			crBlock[8*j+i] = int32(cr)
		}
	}
}

// grayToY stores the 8x8 region of m whose top-left corner is p in yBlock.
func grayToY(m *image.Gray, p image.Point, yBlock *block) {
	b := m.Bounds()
	xmax := b.Max.X - 1
	ymax := b.Max.Y - 1
	pix := m.Pix
	for j := 0; j < 8; j++ {
		for i := 0; i < 8; i++ {
			idx := m.PixOffset(min(p.X+i, xmax), min(p.Y+j, ymax))
			yBlock[8*j+i] = int32(pix[idx])
		}
	}
}

// rgbaToYCbCr is a specialized version of toYCbCr for image.RGBA images.
func rgbaToYCbCr(m *image.RGBA, p image.Point, yBlock, cbBlock, crBlock *block) {
	b := m.Bounds()
	xmax := b.Max.X - 1
	ymax := b.Max.Y - 1
	for j := 0; j < 8; j++ {
		sj := p.Y + j
		if sj > ymax {
			sj = ymax
		}
		offset := (sj-b.Min.Y)*m.Stride - b.Min.X*4
		for i := 0; i < 8; i++ {
			sx := p.X + i
			if sx > xmax {
				sx = xmax
			}
			pix := m.Pix[offset+sx*4:]
			yy, cb, cr := color.RGBToYCbCr(pix[0], pix[1], pix[2])
			yBlock[8*j+i] = int32(yy)
			cbBlock[8*j+i] = int32(cb)
			crBlock[8*j+i] = int32(cr)
		}
	}
}

// yCbCrToYCbCr is a specialized version of toYCbCr for image.YCbCr images.
func yCbCrToYCbCr(m *image.YCbCr, p image.Point, yBlock, cbBlock, crBlock *block) {
	b := m.Bounds()
	xmax := b.Max.X - 1
	ymax := b.Max.Y - 1
	for j := 0; j < 8; j++ {
		sy := p.Y + j
		if sy > ymax {
			sy = ymax
		}
		for i := 0; i < 8; i++ {
			sx := p.X + i
			if sx > xmax {
				sx = xmax
			}
			yi := m.YOffset(sx, sy)
			ci := m.COffset(sx, sy)
			yBlock[8*j+i] = int32(m.Y[yi])
			cbBlock[8*j+i] = int32(m.Cb[ci])
			crBlock[8*j+i] = int32(m.Cr[ci])
		}
	}
}

// scale scales the 16x16 region represented by the 4 src blocks to the 8x8
// dst block.
func scale(dst *block, src *[4]block) {
	for i := 0; i < 4; i++ {
		dstOff := (i&2)<<4 | (i&1)<<2
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				j := 16*y + 2*x
				sum := src[i][j] + src[i][j+1] + src[i][j+8] + src[i][j+9]
				dst[8*y+x+dstOff] = (sum + 2) >> 2
			}
		}
	}
}
