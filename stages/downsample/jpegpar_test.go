package downsample

import (
	"bytes"
	"image"
	"image/jpeg"
	"runtime"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
)

// TestEncodeJPEGParallel: the spliced (and Huffman-optimised) JPEG
// decodes to the same pixels as a one-piece image/jpeg encode at the same
// quality (restart markers change only the DC prediction, which is
// lossless), for colour and grey images and sizes that are and are not
// multiples of the MCU.
func TestEncodeJPEGParallel(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	photo := testimage.Photo(1000, 700, 3)
	gray := image.NewGray(photo.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = photo.Pix[4*i+1]
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"rgba", photo},
		{"rgba odd size", photo.SubImage(image.Rect(3, 5, 997, 690))},
		{"gray", gray},
		{"tiny", photo.SubImage(image.Rect(0, 0, 40, 30))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			par, err := encodeJPEGParallel(tc.img, 80, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			one, err := encodeJPEGStd(tc.img, 80, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			a, err := jpeg.Decode(bytes.NewReader(par))
			if err != nil {
				t.Fatalf("spliced JPEG does not decode: %v", err)
			}
			b, _ := jpeg.Decode(bytes.NewReader(one))
			if a.Bounds().Size() != b.Bounds().Size() {
				t.Fatalf("size %v, want %v", a.Bounds(), b.Bounds())
			}
			if !samePixels(a, b) {
				t.Error("spliced JPEG decodes differently from a one-piece encode")
			}
			if len(par) > len(one)+64 {
				t.Errorf("spliced and optimised %d bytes, one piece %d", len(par), len(one))
			}
		})
	}
}

// BenchmarkEncodeJPEG24MP: one-piece against strip-parallel encoding.
func BenchmarkEncodeJPEG24MP(b *testing.B) {
	rgba := testimage.Photo(6000, 4000, 1)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 95}); err != nil {
		b.Fatal(err)
	}
	ycbcr, err := jpeg.Decode(&buf)
	if err != nil {
		b.Fatal(err)
	}
	for _, src := range []struct {
		name string
		img  image.Image
	}{{"rgba", rgba}, {"ycbcr", ycbcr}} {
		for _, c := range []struct {
			name string
			fn   func(image.Image, float64, int) ([]byte, error)
		}{{"one-piece", encodeJPEGStd}, {"one-piece-optimised", encodeJPEG}, {"strips-optimised", encodeJPEGParallel}} {
			b.Run(src.name+"/"+c.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := c.fn(src.img, 80, 5_000_000); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
