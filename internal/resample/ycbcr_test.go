package resample

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// TestResampleYCbCrMatchesRGBA: the 4:2:0 output holds the RGBA output's
// pixels converted and subsampled as the JPEG encoder converts and
// subsamples RGBA, so that for sizes in whole MCUs (16x16) both encode to
// the same bytes; at other sizes only the chroma of the encoder's padding
// may differ.
func TestResampleYCbCrMatchesRGBA(t *testing.T) {
	photo := testimage.Photo(301, 203, 5)
	ycc := image.NewYCbCr(photo.Rect, image.YCbCrSubsampleRatio420)
	for y := range photo.Rect.Dy() {
		for x := range photo.Rect.Dx() {
			c := photo.RGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			ycc.Y[ycc.YOffset(x, y)] = yy
			ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = cb, cr
		}
	}
	ctx := context.Background()
	for _, src := range []image.Image{photo, ycc} {
		for _, size := range [][2]int{{160, 112}, {1, 1}, {2, 3}, {150, 101}, {147, 98}, {64, 16}} {
			w, h := size[0], size[1]
			t.Run(fmt.Sprintf("%T-%dx%d", src, w, h), func(t *testing.T) {
				rgba, err := RGBA(ctx, src, w, h, nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := YCbCr(ctx, src, w, h, make([]uint8, 7)) // too small to reuse
				if err != nil {
					t.Fatal(err)
				}
				reused, err := YCbCr(ctx, src, w, h, make([]uint8, 2*w*h+8))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(reused.Y, got.Y) || !bytes.Equal(reused.Cb, got.Cb) || !bytes.Equal(reused.Cr, got.Cr) {
					t.Error("the output differs when it reuses a buffer")
				}
				conv := func(x, y int) (int32, int32, int32) {
					c := rgba.RGBAAt(min(x, w-1), min(y, h-1))
					yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
					return int32(yy), int32(cb), int32(cr)
				}
				for y := range h {
					for x := range w {
						if want, _, _ := conv(x, y); int32(got.Y[got.YOffset(x, y)]) != want {
							t.Fatalf("Y at (%d, %d) = %d, want %d", x, y, got.Y[got.YOffset(x, y)], want)
						}
						if x%2 != 0 || y%2 != 0 {
							continue
						}
						var sb, sr int32
						for _, d := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
							_, cb, cr := conv(x+d[0], y+d[1])
							sb, sr = sb+cb, sr+cr
						}
						ci := got.COffset(x, y)
						if int32(got.Cb[ci]) != (sb+2)>>2 || int32(got.Cr[ci]) != (sr+2)>>2 {
							t.Fatalf("chroma at (%d, %d) = %d, %d, want %d, %d", x, y, got.Cb[ci], got.Cr[ci], (sb+2)>>2, (sr+2)>>2)
						}
					}
				}
				if w%16 == 0 && h%16 == 0 {
					a, err := encode.EncodeImage(ctx, rgba, 80)
					if err != nil {
						t.Fatal(err)
					}
					b, err := encode.EncodeImage(ctx, got, 80)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(a, b) {
						t.Errorf("the 4:2:0 image encodes to %d bytes unlike the RGBA one's %d", len(b), len(a))
					}
				}
			})
		}
	}
}
