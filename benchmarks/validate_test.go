package benchmarks

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
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

// screenshotPNG is a 1920×1080 flat-colour UI-like PNG, like the mixed
// backlog's screenshots.
func screenshotPNG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testimage.Graphic(1920, 1080, 16, false)); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkValidate runs the validate stage on a message whose one
// attachment is a 12 MP photo, or a screenshot: every check the stage
// makes (type sniffing, marker or chunk structure, header, pixel budget,
// and the scans' entropy decode or the image data's inflate), to set
// beside BenchmarkDecode: the goal is at most a quarter of image.Decode's
// time for the photo.
func BenchmarkValidate(b *testing.B) {
	s, err := validate.New(validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, file, mime string
		data             []byte
	}{
		{"jpeg-12MP", "Wound photo.jpg", conneqt.MIMEJPEG, photo12MP(b)},
		{"png-screenshot", "Results.png", conneqt.MIMEPNG, screenshotPNG(b)},
	} {
		b.Run(tc.name, func(b *testing.B) { benchValidate(b, s, tc.file, tc.mime, tc.data) })
	}
}

func benchValidate(b *testing.B, s *validate.Stage, file, mime string, data []byte) {
	route := conneqt.MustRoute(conneqt.Standard)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		doc := &pipeline.Document{Route: route, Message: &conneqt.Message{
			MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197", Type: route.MessageType, Topic: "Health",
			Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
			Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
			Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Wound photo"},
			Attachments: []*conneqt.Attachment{{FileName: file, MIMEType: mime, Data: data}},
		}}
		if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
			b.Fatal(err)
		}
		if len(doc.Problems()) != 0 {
			b.Fatalf("problems: %v", doc.Problems())
		}
	}
}

// BenchmarkDecode decodes the same photo and screenshot with image.Decode:
// what validate cost per image when it checked one by decoding it.
func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct {
		name string
		data []byte
	}{{"jpeg-12MP", photo12MP(b)}, {"png-screenshot", screenshotPNG(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := image.Decode(bytes.NewReader(tc.data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
