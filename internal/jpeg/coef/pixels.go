package coef

import (
	"errors"
	"image"
	"runtime"
	"sync"
)

// ErrNotYCbCr reports an image Pixels does not reconstruct.
var ErrNotYCbCr = errors.New("jpegcoef: only grey and YCbCr images are reconstructed")

// Pixels reconstructs the image exactly as image/jpeg.Decode would: an
// *image.Gray for one component, an *image.YCbCr for three components
// holding YCbCr. RGB and four-component images return ErrNotYCbCr (decode
// those with image/jpeg). The work is spread over GOMAXPROCS goroutines.
func (m *Image) Pixels() (image.Image, error) {
	var planes [3][]byte
	var strides [3]int
	var out image.Image
	switch {
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
		y := image.NewYCbCr(image.Rect(0, 0, 8*c0.H*m.MCUsWide, 8*c0.V*m.MCUsHigh), ratio)
		planes = [3][]byte{y.Y, y.Cb, y.Cr}
		strides = [3]int{y.YStride, y.CStride, y.CStride}
		out = y.SubImage(image.Rect(0, 0, m.Width, m.Height))
	default:
		return nil, ErrNotYCbCr
	}
	// Reconstruct the blocks that touch the image, as image/jpeg does for
	// progressive images, in bands of block rows.
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for i := range m.Components {
		c := &m.Components[i]
		v := 8 * m.Components[0].V / c.V // pixel rows per block row, in luma rows
		h := 8 * m.Components[0].H / c.H
		if len(m.Components) == 1 {
			v, h = 8, 8
		}
		rows := (m.Height + v - 1) / v
		cols := (m.Width + h - 1) / h
		band := (rows + workers - 1) / workers
		for r0 := 0; r0 < rows; r0 += band {
			wg.Go(func() {
				var b block
				for by := r0; by < min(rows, r0+band); by++ {
					for bx := range cols {
						src := c.Block(bx, by)
						for zig := range blockSize {
							b[unzig[zig]] = int32(src[zig]) * int32(c.Quant[zig])
						}
						idct(&b)
						store(&b, planes[i][8*(by*strides[i]+bx):], strides[i])
					}
				}
			})
		}
	}
	wg.Wait()
	return out, nil
}

// store level-shifts by +128, clips to [0, 255] and writes b to dst.
func store(b *block, dst []byte, stride int) {
	for y := range 8 {
		y8 := y * 8
		yStride := y * stride
		for x := range 8 {
			c := b[y8+x]
			if c < -128 {
				c = 0
			} else if c > 127 {
				c = 255
			} else {
				c += 128
			}
			dst[yStride+x] = uint8(c)
		}
	}
}
