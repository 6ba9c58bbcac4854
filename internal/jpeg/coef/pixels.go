package coef

import (
	"context"
	"errors"
	"image"
	"math"
	"unsafe"

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
	return m.pixels(ctx, o, false)
}

// PixelsInPlace is Pixels(ctx, 1) writing the pixels over the
// coefficients' own memory: each component's plane takes the first half
// of its blocks' bytes (a plane has 64 one-byte samples for each block of
// 64 two-byte coefficients), so reconstructing allocates next to nothing
// and the coefficients' memory is not left behind as garbage. m's
// coefficients are destroyed: m must not be used again, whatever the
// result.
//
// Block row r's pixels overwrite coefficients of rows below r/2+1 only, so
// the rows are reconstructed in waves, [1, 2), [2, 4), [4, 8) and so on,
// each in parallel, after row 0, which goes through a small buffer.
func (m *Image) PixelsInPlace(ctx context.Context) (image.Image, error) {
	defer func() {
		for i := range m.Components {
			m.Components[i].Blocks = nil
		}
	}()
	return m.pixels(ctx, 1, true)
}

// blockBytes returns the memory of blocks as bytes.
func blockBytes(blocks []Block) []byte {
	if len(blocks) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(blocks))), len(blocks)*int(unsafe.Sizeof(Block{})))
}

func (m *Image) pixels(ctx context.Context, o int, inPlace bool) (image.Image, error) {
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
		r := image.Rect(0, 0, 8*m.MCUsWide, 8*m.MCUsHigh)
		g := &image.Gray{Pix: blockBytes(m.Components[0].Blocks), Stride: r.Dx(), Rect: r}
		if !inPlace {
			g = image.NewGray(r)
		}
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
			r := image.Rect(0, 0, 8*c0.H*m.MCUsWide, 8*c0.V*m.MCUsHigh)
			if inPlace {
				y = &image.YCbCr{Y: blockBytes(c0.Blocks), Cb: blockBytes(c1.Blocks), Cr: blockBytes(m.Components[2].Blocks),
					YStride: 8 * c0.BlocksWide, CStride: 8 * c1.BlocksWide, SubsampleRatio: ratio, Rect: r}
			} else {
				y = image.NewYCbCr(r, ratio)
			}
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
	run := func(bd band, dst []byte) {
		c := &m.Components[bd.comp]
		stride := strides[bd.comp]
		var b block
		for by := bd.r0; by < bd.r1; by++ {
			for bx := range bd.cols {
				src := c.Block(bx, by)
				for zig := range blockSize {
					b[unzig[zig]] = int32(src[zig]) * int32(c.Quant[zig])
				}
				idct(&b)
				if o == 1 {
					store(&b, dst[8*((by-bd.r0)*stride+bx):], stride)
				} else {
					storeUpright(&b, dst, stride, 8*bx, 8*by, bd.pw, bd.ph, o)
				}
			}
		}
	}
	var all []band // each component's rows, whole
	for i := range m.Components {
		c := &m.Components[i]
		v := 8 * m.Components[0].V / c.V // pixel rows per block row, in luma rows
		h := 8 * m.Components[0].H / c.H
		if len(m.Components) == 1 {
			v, h = 8, 8
		}
		// The component's plane: the image at the component's resolution
		// (A.1.1), as image/jpeg's chroma planes are.
		pw, ph := (m.Width*8+h-1)/h, (m.Height*8+v-1)/v
		all = append(all, band{i, (m.Width + h - 1) / h, 0, (m.Height + v - 1) / v, pw, ph})
	}
	// split cuts rows [r0, r1) of every component into bands for the
	// workers, and runs them.
	split := func(r0, r1 int) error {
		var bands []band
		// Bands of at most 8 block rows (64 pixel rows of luma): a
		// cancelled context is seen within one band's work, and the load
		// spreads over the workers whatever else holds some of them.
		const bandBlockRows = 8
		for _, a := range all {
			lo, hi := min(r0, a.r1), min(r1, a.r1)
			size := bandBlockRows
			for r := lo; r < hi; r += size {
				bd := a
				bd.r0, bd.r1 = r, min(hi, r+size)
				bands = append(bands, bd)
			}
		}
		return workers.ForEach(ctx, len(bands), func(_, k int) error {
			bd := bands[k]
			dst := planes[bd.comp]
			if o == 1 {
				dst = dst[8*bd.r0*strides[bd.comp]:]
			}
			run(bd, dst)
			return nil
		})
	}
	if !inPlace {
		if err := split(0, math.MaxInt); err != nil {
			return nil, err
		}
		return out, nil
	}
	for _, a := range all { // row 0, through a buffer
		if a.r1 > 0 {
			buf := make([]byte, 8*strides[a.comp])
			a.r1 = 1
			run(a, buf)
			copy(planes[a.comp], buf)
		}
	}
	for r := 1; r < math.MaxInt/2; r *= 2 {
		done := true
		for _, a := range all {
			done = done && r >= a.r1
		}
		if done {
			break
		}
		if err := split(r, 2*r); err != nil {
			return nil, err
		}
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
