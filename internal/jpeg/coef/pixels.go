package coef

import (
	"context"
	"errors"
	"image"

	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
	"github.com/gpdoc/gpdoc/internal/workers"
)

// ErrNotYCbCr reports an image Pixels does not reconstruct.
var ErrNotYCbCr = errors.New("coef: only grey and YCbCr images are reconstructed")

// Pixels reconstructs the image exactly as image/jpeg.Decode would: an
// *image.Gray for one component, an *image.YCbCr for three components
// holding YCbCr. RGB and four-component images return ErrNotYCbCr (decode
// those with image/jpeg).
//
// With an EXIF orientation o from 2 to 8 the pixels are written upright
// (package orientation), into an image of the upright size, without a second
// copy: the result is image/jpeg's pixels turned plane by plane, the
// chroma planes at their own resolution (4:2:2 becomes 4:4:0 when o
// transposes; 4:1:1 and 4:1:0 then return ErrNotYCbCr). Other values of o
// mean as stored.
//
// The work runs in bands of block rows in parallel, under the
// process-wide worker limit (package workers); a cancelled ctx stops it
// with ctx's error.
func (m *Image) Pixels(ctx context.Context, o int) (image.Image, error) {
	if o < 2 || o > 8 {
		o = 1
	}
	uw, uh := m.Width, m.Height
	if orientation.Transposes(o) {
		uw, uh = uh, uw
	}
	var planes [3][]byte
	var strides [3]int
	var out image.Image
	switch {
	case len(m.Components) == 1 && o > 1:
		g := image.NewGray(image.Rect(0, 0, uw, uh))
		planes[0], strides[0], out = g.Pix, g.Stride, g
	case len(m.Components) == 1:
		g := image.NewGray(image.Rect(0, 0, 8*m.MCUsWide, 8*m.MCUsHigh))
		planes[0], strides[0] = g.Pix, g.Stride
		out = g.SubImage(image.Rect(0, 0, m.Width, m.Height))
	case len(m.Components) == 3 && !m.RGB:
		c0, c1 := m.Components[0], m.Components[1]
		var ratio image.YCbCrSubsampleRatio
		switch (c0.H/c1.H)<<4 | c0.V/c1.V {
		case 0x11:
			ratio = image.YCbCrSubsampleRatio444
		case 0x12:
			ratio = image.YCbCrSubsampleRatio440
		case 0x21:
			ratio = image.YCbCrSubsampleRatio422
		case 0x22:
			ratio = image.YCbCrSubsampleRatio420
		case 0x41:
			ratio = image.YCbCrSubsampleRatio411
		case 0x42:
			ratio = image.YCbCrSubsampleRatio410
		default:
			return nil, ErrNotYCbCr
		}
		var y *image.YCbCr
		if o > 1 {
			var ok bool
			if ratio, ok = orientation.Ratio(ratio, o); !ok {
				return nil, ErrNotYCbCr
			}
			y = image.NewYCbCr(image.Rect(0, 0, uw, uh), ratio)
			out = y
		} else {
			y = image.NewYCbCr(image.Rect(0, 0, 8*c0.H*m.MCUsWide, 8*c0.V*m.MCUsHigh), ratio)
			out = y.SubImage(image.Rect(0, 0, m.Width, m.Height))
		}
		planes = [3][]byte{y.Y, y.Cb, y.Cr}
		strides = [3]int{y.YStride, y.CStride, y.CStride}
	default:
		return nil, ErrNotYCbCr
	}
	// Reconstruct the blocks that touch the image, as image/jpeg does for
	// progressive images, in bands of block rows.
	type band struct{ comp, cols, r0, r1, pw, ph int }
	var bands []band
	per := workers.Limit()
	for i := range m.Components {
		c := &m.Components[i]
		v := 8 * m.Components[0].V / c.V // pixel rows per block row, in luma rows
		h := 8 * m.Components[0].H / c.H
		if len(m.Components) == 1 {
			v, h = 8, 8
		}
		rows := (m.Height + v - 1) / v
		cols := (m.Width + h - 1) / h
		// The component's plane: the image at the component's resolution
		// (A.1.1), as image/jpeg's chroma planes are.
		pw, ph := (m.Width*8+h-1)/h, (m.Height*8+v-1)/v
		size := (rows + per - 1) / per
		for r0 := 0; r0 < rows; r0 += size {
			bands = append(bands, band{i, cols, r0, min(rows, r0+size), pw, ph})
		}
	}
	err := workers.ForEach(ctx, len(bands), func(_, k int) error {
		bd := bands[k]
		c := &m.Components[bd.comp]
		var b block
		for by := bd.r0; by < bd.r1; by++ {
			for bx := range bd.cols {
				src := c.Block(bx, by)
				for zig := range blockSize {
					b[unzig[zig]] = int32(src[zig]) * int32(c.Quant[zig])
				}
				idct(&b)
				if o == 1 {
					store(&b, planes[bd.comp][8*(by*strides[bd.comp]+bx):], strides[bd.comp])
				} else {
					storeUpright(&b, planes[bd.comp], strides[bd.comp], 8*bx, 8*by, bd.pw, bd.ph, o)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// store writes b (level-shifted and clipped, sample) to dst.
func store(b *block, dst []byte, stride int) {
	for y := range 8 {
		y8 := y * 8
		yStride := y * stride
		for x := range 8 {
			dst[yStride+x] = sample(b[y8+x])
		}
	}
}

// storeUpright writes the part of b, at (x0, y0) of a w x h plane stored
// with orientation o, that lies inside the plane to its upright place in
// dst.
func storeUpright(b *block, dst []byte, stride, x0, y0, w, h, o int) {
	uw, uh := w, h
	if orientation.Transposes(o) {
		uw, uh = h, w
	}
	inv := orientation.Inverse(o)
	for y := range min(8, h-y0) {
		for x := range min(8, w-x0) {
			dx, dy := orientation.Src(inv, x0+x, y0+y, uw, uh)
			dst[dy*stride+dx] = sample(b[8*y+x])
		}
	}
}

// sample level-shifts c by +128 and clips it to [0, 255].
func sample(c int32) uint8 {
	if c < -128 {
		return 0
	} else if c > 127 {
		return 255
	}
	return uint8(c + 128)
}
