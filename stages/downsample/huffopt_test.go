package downsample

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
)

// TestOptimizeHuffman: the rewritten JPEG is smaller and decodes to the
// same pixels, for colour, grey and strip-joined (restart marker) files.
func TestOptimizeHuffman(t *testing.T) {
	photo := testimage.Photo(900, 600, 5)
	gray := image.NewGray(photo.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = photo.Pix[4*i]
	}
	for _, tc := range []struct {
		name string
		img  image.Image
		q    float64
		par  bool
	}{
		{"colour q80", photo, 80, false},
		{"colour q30", photo, 30, false},
		{"colour q100", photo, 100, false},
		{"grey", gray, 75, false},
		{"colour strips", photo, 85, true},
		{"grey strips", gray, 60, true},
		{"odd size", photo.SubImage(image.Rect(1, 1, 899, 597)), 70, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := encodeJPEGStd(tc.img, tc.q, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if tc.par { // strips joined with restart markers, then optimised
				out, err = encodeJPEGParallel(tc.img, tc.q, 1<<20)
			} else {
				out, err = optimizeHuffman(in)
			}
			if err != nil {
				t.Fatal(err)
			}
			a, err := jpeg.Decode(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			b, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("optimised JPEG does not decode: %v", err)
			}
			if !samePixels(a, b) {
				t.Fatal("optimised JPEG decodes to different pixels")
			}
			if len(out) >= len(in) {
				t.Errorf("optimised %d bytes, not smaller than %d", len(out), len(in))
			}
			t.Logf("%d -> %d bytes (%.1f%%)", len(in), len(out), 100*float64(len(in)-len(out))/float64(len(in)))
		})
	}
}

// FuzzOptimizeHuffman: on any input the rewrite returns an error or a
// JPEG; when the input is a JPEG image/jpeg decodes, the rewrite (if it
// accepts it) decodes to exactly the same pixels.
func FuzzOptimizeHuffman(f *testing.F) {
	b, _ := encodeJPEGStd(testimage.Photo(40, 24, 1), 75, 1<<12)
	f.Add(b)
	p, _ := encodeJPEGParallel(testimage.Photo(64, 96, 2), 50, 1<<12)
	f.Add(p)
	f.Add(tinyJPEG(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := optimizeHuffman(data)
		if err != nil {
			return
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		in, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		got, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("input decodes, rewrite does not: %v", err)
		}
		if !samePixels(in, got) {
			t.Fatal("rewrite decodes to different pixels")
		}
	})
}
