// Package resample scales images with a streaming, parallel Catmull-Rom
// filter (bicubic, a = -0.5, as imaging.CatmullRom), for the downsample
// stage: into RGBA, or straight into 4:2:0 YCbCr for a JPEG encoder (a
// third of the memory). Rows are produced in bands under the process-wide
// worker limit (internal/workers), and every call stops with the context's
// error when it is cancelled.
package resample

import (
	"context"
	"image"
	"image/color"
	"math"

	"github.com/gpdoc/gpdoc/internal/workers"
)

// RGBA scales src to w x h with a separable Catmull-Rom filter
// (widened by the scale factor, so downscaling averages rather than
// aliases) into a new *image.RGBA. Unlike imaging.Resize and
// golang.org/x/image/draw's kernel scaler, it streams: each band of output
// rows keeps only the horizontally filtered source rows its window needs,
// so the only large allocation is the output (imaging keeps a w x srcH
// intermediate, x/image/draw a float64 one of 32 bytes per pixel). Bands
// run in parallel under the process-wide worker limit (package workers);
// the output does not depend on how many. The output's pixels go in reuse
// when it is large enough (a previous output the caller is done with). The
// error is ctx's.
func RGBA(ctx context.Context, src image.Image, w, h int, reuse []uint8) (*image.RGBA, error) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	var dst *image.RGBA
	if cap(reuse) >= 4*w*h {
		dst = &image.RGBA{Pix: reuse[:4*w*h], Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	} else {
		dst = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	xs := filterWeights(sw, w)
	ys := filterWeights(sh, h)
	bands := bandsOf(h)
	err := workers.ForEach(ctx, bands, func(_, k int) error {
		resampleBand(src, dst, xs, ys, k*h/bands, (k+1)*h/bands)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// bandRows is about how many output rows one band holds: bands are the
// items of the parallel loop, so a cancelled context is seen within one
// band's work (a few milliseconds), and the load spreads over the workers
// whatever else holds some of them. Each band re-filters the few source
// rows its window shares with the band above, a few per cent of the work.
const bandRows = 128

// bandsOf is the number of bands for n output rows.
func bandsOf(n int) int { return max(1, (n+bandRows-1)/bandRows) }

// YCbCr is RGBA with a 4:2:0 *image.YCbCr as output: 1.5
// bytes a pixel rather than 4 (a 24 MP photo scaled to 21 MP: 32 MB
// rather than 86 MB). Each output pixel is the RGBA one converted as the
// JPEG encoder converts RGBA (color.RGBToYCbCr), and each chroma sample is
// the rounded mean of its 2x2 pixels (edge pixels repeated), as the encoder
// subsamples chroma, so encoding it gives the JPEG that encoding the RGBA
// image would, but for the chroma of padding beyond the edge of an image
// whose width or height is even and not a multiple of 16. reuse as for
// RGBA.
func YCbCr(ctx context.Context, src image.Image, w, h int, reuse []uint8) (*image.YCbCr, error) {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	n := w*h + 2*cw*ch
	var pix []uint8
	if cap(reuse) >= n {
		pix = reuse[:n]
	} else {
		pix = make([]uint8, n)
	}
	// Y is first in pix, so Y[:cap(Y)] gives the caller pix back to reuse.
	dst := &image.YCbCr{Y: pix[:w*h], Cb: pix[w*h : w*h+cw*ch], Cr: pix[w*h+cw*ch:],
		YStride: w, CStride: cw, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}
	xs := filterWeights(sw, w)
	ys := filterWeights(sh, h)
	// Bands start on even rows, so that each pair of rows (one chroma row)
	// is in one band.
	bands := bandsOf(ch)
	err := workers.ForEach(ctx, bands, func(_, k int) error {
		y0, y1 := 2*(k*ch/bands), min(h, 2*((k+1)*ch/bands))
		// Each chroma sample's sum of 4, and the rows' converted pixels.
		cb, cr := make([]int32, cw), make([]int32, cw)
		ycc := make([]uint8, 3*w)
		addRow := func(times int32) {
			for cx := range cw {
				x0, x1 := 2*cx, min(2*cx+1, w-1)
				cb[cx] += times * (int32(ycc[3*x0+1]) + int32(ycc[3*x1+1]))
				cr[cx] += times * (int32(ycc[3*x0+2]) + int32(ycc[3*x1+2]))
			}
		}
		resampleRows(src, xs, ys, y0, y1, func(y int, acc []float32) {
			out := dst.Y[y*w:]
			for x := range w {
				yy, u, v := color.RGBToYCbCr(clamp8(acc[3*x]), clamp8(acc[3*x+1]), clamp8(acc[3*x+2]))
				out[x], ycc[3*x+1], ycc[3*x+2] = yy, u, v
			}
			times := int32(1)
			if y%2 == 0 {
				clear(cb)
				clear(cr)
				if y == h-1 {
					times = 2 // the last row of an odd height, repeated
				}
			}
			addRow(times)
			if y%2 == 1 || y == h-1 {
				row := (y / 2) * cw
				for cx := range cw {
					dst.Cb[row+cx] = uint8((cb[cx] + 2) >> 2)
					dst.Cr[row+cx] = uint8((cr[cx] + 2) >> 2)
				}
			}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return dst, nil
}

// taps are the source indices and weights of one output sample.
type taps struct {
	first int
	w     []float32
}

func filterWeights(srcN, dstN int) []taps {
	scale := float64(srcN) / float64(dstN)
	support := 2.0 // Catmull-Rom
	if scale > 1 {
		support *= scale
	}
	out := make([]taps, dstN)
	for i := range out {
		c := (float64(i)+0.5)*scale - 0.5
		lo := max(0, int(math.Ceil(c-support)))
		hi := min(srcN-1, int(math.Floor(c+support)))
		ws := make([]float32, 0, hi-lo+1)
		sum := 0.0
		for j := lo; j <= hi; j++ {
			x := (float64(j) - c)
			if scale > 1 {
				x /= scale
			}
			v := catmullRom(x)
			ws = append(ws, float32(v))
			sum += v
		}
		for j := range ws {
			ws[j] = float32(float64(ws[j]) / sum)
		}
		out[i] = taps{first: lo, w: ws}
	}
	return out
}

func catmullRom(x float64) float64 {
	x = math.Abs(x)
	switch {
	case x < 1:
		return (1.5*x-2.5)*x*x + 1
	case x < 2:
		return ((-0.5*x+2.5)*x-4)*x + 2
	}
	return 0
}

// resampleBand fills output rows [y0, y1).
func resampleBand(src image.Image, dst *image.RGBA, xs, ys []taps, y0, y1 int) {
	resampleRows(src, xs, ys, y0, y1, func(y int, acc []float32) {
		out := dst.Pix[y*dst.Stride:]
		for x := range len(xs) {
			out[4*x] = clamp8(acc[3*x])
			out[4*x+1] = clamp8(acc[3*x+1])
			out[4*x+2] = clamp8(acc[3*x+2])
			out[4*x+3] = 255
		}
	})
}

// resampleRows filters output rows y0 to y1-1 and hands each to emit as
// w RGB triples (unclamped floats; emit must not keep acc).
func resampleRows(src image.Image, xs, ys []taps, y0, y1 int, emit func(y int, acc []float32)) {
	b := src.Bounds()
	sw, w := b.Dx(), len(xs)
	row := make([]uint8, 4*sw)   // one source row as RGBA bytes
	cache := map[int][]float32{} // horizontally filtered rows, by source y
	var free [][]float32
	acc := make([]float32, 3*w)
	for y := y0; y < y1; y++ {
		t := ys[y]
		// Drop rows no later output row of this band needs.
		for sy, r := range cache {
			if sy < t.first {
				delete(cache, sy)
				free = append(free, r)
			}
		}
		for j := range acc {
			acc[j] = 0
		}
		for k, wy := range t.w {
			sy := t.first + k
			hr, ok := cache[sy]
			if !ok {
				if n := len(free); n > 0 {
					hr, free = free[n-1], free[:n-1]
				} else {
					hr = make([]float32, 3*w)
				}
				readRow(src, b.Min.X, b.Min.Y+sy, row)
				for x, tx := range xs {
					var r, g, bl float32
					p := row[4*tx.first:]
					for i, wx := range tx.w {
						r += wx * float32(p[4*i])
						g += wx * float32(p[4*i+1])
						bl += wx * float32(p[4*i+2])
					}
					hr[3*x], hr[3*x+1], hr[3*x+2] = r, g, bl
				}
				cache[sy] = hr
			}
			for j, v := range hr {
				acc[j] += wy * v
			}
		}
		emit(y, acc)
	}
}

func clamp8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// readRow writes source row y (starting at x0) as opaque RGBA bytes,
// with fast paths for the types the decoders produce.
func readRow(src image.Image, x0, y int, row []uint8) {
	n := len(row) / 4
	switch m := src.(type) {
	case *image.RGBA:
		copy(row, m.Pix[m.PixOffset(x0, y):])
		return
	case *image.Gray:
		p := m.Pix[m.PixOffset(x0, y):]
		for x := range n {
			v := p[x]
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = v, v, v, 255
		}
		return
	case *image.YCbCr:
		for x := range n {
			yi := m.YOffset(x0+x, y)
			ci := m.COffset(x0+x, y)
			r, g, b := ycbcrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = r, g, b, 255
		}
		return
	}
	for x := range n {
		r, g, b, _ := src.At(x0+x, y).RGBA()
		row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = uint8(r>>8), uint8(g>>8), uint8(b>>8), 255
	}
}

// ycbcrToRGB is color.YCbCrToRGB, inlined for the hot loop.
func ycbcrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	yy1 := int32(y) * 0x10101
	cb1 := int32(cb) - 128
	cr1 := int32(cr) - 128
	r := yy1 + 91881*cr1
	if uint32(r)&0xff000000 == 0 {
		r >>= 16
	} else {
		r = ^(r >> 31)
	}
	g := yy1 - 22554*cb1 - 46802*cr1
	if uint32(g)&0xff000000 == 0 {
		g >>= 16
	} else {
		g = ^(g >> 31)
	}
	b := yy1 + 116130*cb1
	if uint32(b)&0xff000000 == 0 {
		b >>= 16
	} else {
		b = ^(b >> 31)
	}
	return uint8(r), uint8(g), uint8(b)
}
