package sanitise_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

// BenchmarkSanitise runs validate and sanitise on a message whose PDF has
// JavaScript and whose JPEG has EXIF: the PDF is read, cleaned, rewritten
// and read back; the JPEG is stripped without a re-encode.
func BenchmarkSanitise(b *testing.B) {
	r := runner(b)
	js, jpg := jsPDF(b), withEXIF(exampleJPEG(b), 6)
	b.ReportAllocs()
	for b.Loop() {
		doc := newDoc(
			&conneqt.Attachment{FileName: "letter.pdf", MIMEType: conneqt.MIMEPDF, Data: bytes.Clone(js)},
			&conneqt.Attachment{FileName: "photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: bytes.Clone(jpg)},
		)
		if err := r.Process(context.Background(), doc); err != nil {
			b.Fatal(err)
		}
	}
}
