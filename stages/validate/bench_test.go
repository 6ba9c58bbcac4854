package validate

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

func BenchmarkCheckMessage(b *testing.B) {
	m := baseMessage(conneqt.Standard,
		&conneqt.Attachment{FileName: "letter.pdf", MIMEType: conneqt.MIMEPDF, Data: examplePDF(b)},
		&conneqt.Attachment{FileName: "photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: testJPEG(b)},
		&conneqt.Attachment{FileName: "note.txt", MIMEType: conneqt.MIMEText, Data: []byte("Chest clear. SpO2 98% on air.")},
	)
	route := conneqt.MustRoute(conneqt.Standard)
	opts := Options{Now: fixedNow}
	b.ReportAllocs()
	for b.Loop() {
		if ps, _ := CheckMessage(route, m, opts); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}

// BenchmarkCheckPhoto checks a 12-megapixel camera JPEG (4000×3000): the
// header check, then the entropy decode of its scans (coef.Check).
func BenchmarkCheckPhoto(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = uint8(i), uint8(i/3)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		b.Fatal(err)
	}
	att := &conneqt.Attachment{FileName: "photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: buf.Bytes()}
	m := baseMessage(conneqt.Standard, att)
	route := conneqt.MustRoute(conneqt.Standard)
	opts := Options{Now: fixedNow}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if ps, _ := CheckMessage(route, m, opts); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}

// BenchmarkCheckPNG checks a 1920×1080 RGB PNG through CheckMessage: a
// flat-colour screenshot (the backfill's PNG) and a noisy photo, both
// generated deterministically. The header and chunks are checked, then the
// image data for damage.
func BenchmarkCheckPNG(b *testing.B) {
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
		att := &conneqt.Attachment{FileName: "screen.png", MIMEType: conneqt.MIMEPNG, Data: buf.Bytes()}
		m := baseMessage(conneqt.Standard, att)
		route := conneqt.MustRoute(conneqt.Standard)
		opts := Options{Now: fixedNow}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			for b.Loop() {
				if ps, _ := CheckMessage(route, m, opts); len(ps) > 0 {
					b.Fatal(ps)
				}
			}
		})
	}
}
