package resample

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/gpdoc/gpdoc/internal/testimage"
	xdraw "golang.org/x/image/draw"
)

// BenchmarkResize compares the resamplers for the step the fitter needs:
// a decoded 12 MP JPEG (YCbCr 4:2:0) scaled to 0.7. Allocations show the
// intermediate buffers (x/image/draw's kernel scaler keeps 32 bytes per
// pixel of a full-height intermediate).
func BenchmarkResize(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(4000, 3000, 1), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	src, err := jpeg.Decode(&buf)
	if err != nil {
		b.Fatal(err)
	}
	w, h := 2800, 2100
	for _, c := range []struct {
		name string
		fn   func() image.Image
	}{
		{"gpdoc-streaming-catmullrom", func() image.Image { r, _ := RGBA(context.Background(), src, w, h, nil); return r }},
		{"imaging-catmullrom", func() image.Image { return imaging.Resize(src, w, h, imaging.CatmullRom) }},
		{"imaging-linear", func() image.Image { return imaging.Resize(src, w, h, imaging.Linear) }},
		{"xdraw-catmullrom", func() image.Image {
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			xdraw.CatmullRom.Scale(dst, dst.Rect, src, src.Bounds(), xdraw.Src, nil)
			return dst
		}},
		{"xdraw-approxbilinear", func() image.Image {
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			xdraw.ApproxBiLinear.Scale(dst, dst.Rect, src, src.Bounds(), xdraw.Src, nil)
			return dst
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c.fn().Bounds().Dx() != w {
					b.Fatal("wrong size")
				}
			}
		})
	}
}

// TestResampleMatchesImaging: the streaming resampler agrees with
// imaging's Catmull-Rom on a smooth image to within rounding.
func TestResampleMatchesImaging(t *testing.T) {
	src := testimage.Photo(600, 400, 4)
	for _, size := range [][2]int{{300, 200}, {451, 301}, {600, 400}, {97, 61}} {
		got, err := RGBA(context.Background(), src, size[0], size[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		want := imaging.Resize(src, size[0], size[1], imaging.CatmullRom)
		diff, n := 0.0, 0
		for i := range got.Pix {
			if i%4 == 3 {
				continue
			}
			d := float64(got.Pix[i]) - float64(want.Pix[i])
			if d < 0 {
				d = -d
			}
			diff += d
			n++
		}
		if mean := diff / float64(n); mean > 1.0 {
			t.Errorf("%v: mean difference to imaging %.2f levels", size, mean)
		}
	}
}
