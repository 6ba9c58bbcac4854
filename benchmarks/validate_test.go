package benchmarks

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// photo12MP is a 12-megapixel (4000×3000) camera-like photo saved by
// image/jpeg at quality 90 (baseline, 4:2:0): about 3.5 MB, like the mixed
// backlog's phone photos.
func photo12MP(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(4000, 3000, 7), &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkValidate runs the validate stage on a message whose one
// attachment is a 12 MP photo: every check the stage makes (type sniffing,
// marker structure, header, pixel budget, and the scans' entropy decode),
// to set beside BenchmarkDecode: the goal is at most a quarter of
// image.Decode's time.
func BenchmarkValidate(b *testing.B) {
	data := photo12MP(b)
	s, err := validate.New(validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	route := conneqt.MustRoute(conneqt.Standard)
	b.Run("jpeg-12MP", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			doc := &pipeline.Document{Route: route, Message: &conneqt.Message{
				MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197", Type: route.MessageType, Topic: "Health",
				Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
				Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
				Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Wound photo"},
				Attachments: []*conneqt.Attachment{{FileName: "Wound photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: data}},
			}}
			if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecode decodes the same 12 MP photo with image.Decode: what
// validate cost per photo when it checked a JPEG by decoding it.
func BenchmarkDecode(b *testing.B) {
	data := photo12MP(b)
	b.Run("jpeg-12MP", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
