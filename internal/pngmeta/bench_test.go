package pngmeta_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"

	"github.com/gpdoc/gpdoc/internal/pngmeta"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// BenchmarkCheck compares Check with the png.Decode it stands for on
// 1920×1080 RGB PNGs generated deterministically: a flat-colour screenshot
// (the backfill's PNG: little data, mostly long matches) and a noisy photo
// (much data, Paeth-filtered rows).
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"screenshot-1920x1080", testimage.Graphic(1920, 1080, 32, false)},
		{"photo-1920x1080", testimage.Photo(1920, 1080, 7)},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, tc.img); err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		b.Run(tc.name+"/Check", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := pngmeta.Check(context.Background(), data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/png.Decode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
