package validate

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline"
)

func BenchmarkCheckMessage(b *testing.B) {
	m := baseMessage(pipeline.Standard,
		&pipeline.Attachment{FileName: "letter.pdf", MIMEType: pipeline.MIMEPDF, Data: examplePDF(b)},
		&pipeline.Attachment{FileName: "photo.jpg", MIMEType: pipeline.MIMEJPEG, Data: testJPEG(b)},
		&pipeline.Attachment{FileName: "note.txt", MIMEType: pipeline.MIMEText, Data: []byte("Chest clear. SpO2 98% on air.")},
	)
	route := pipeline.MustRoute(pipeline.Standard)
	opts := Options{Now: fixedNow}
	b.ReportAllocs()
	for b.Loop() {
		if ps, _ := CheckMessage(route, m, opts); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}

// BenchmarkCheckPhoto checks a 12-megapixel camera JPEG (4000×3000): the
// header check, then a full decode.
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
	att := &pipeline.Attachment{FileName: "photo.jpg", MIMEType: pipeline.MIMEJPEG, Data: buf.Bytes()}
	m := baseMessage(pipeline.Standard, att)
	route := pipeline.MustRoute(pipeline.Standard)
	opts := Options{Now: fixedNow, Downsample: true}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if ps, _ := CheckMessage(route, m, opts); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}
