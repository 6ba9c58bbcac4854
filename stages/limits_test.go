package stages_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"strings"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/b64"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages"
)

// fourMBJPEG is a photo of noise of about 4 MB: over the Base64 reading of
// 5 MB (3,750,000 decoded bytes), under the decoded one.
var fourMBJPEG = sync.OnceValue(func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2100, 2100))
	x := uint32(1)
	for i := range img.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		img.Pix[i] = byte(x)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// limitDoc is an instant message with one attachment.
func limitDoc(name, mime string, data []byte) *pipeline.Document {
	return &pipeline.Document{Route: conneqt.MustRoute(conneqt.Instant), Message: &conneqt.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876", Type: "ToolbarInstantMessage", Topic: "Health",
		Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "GPPRAC001", Type: conneqt.IDOcsClient}},
		Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Attachments: []*conneqt.Attachment{{FileName: name, MIMEType: mime, Data: data}},
	}}
}

func limitRoutes(t *testing.T, limit int64, basis conneqt.LimitBasis) map[conneqt.RouteName]*conneqt.Route {
	t.Helper()
	table := conneqt.Table()
	for n, r := range table {
		c, err := r.WithAttachmentLimit(limit, basis)
		if err != nil {
			t.Fatal(err)
		}
		table[n] = c
	}
	return table
}

// TestLimitBasis: a 4 MB attachment passes under the decoded reading of
// 5 MB; under the Base64 reading a photo is downsampled until its Base64
// fits, and anything else is refused with the limit named both ways.
func TestLimitBasis(t *testing.T) {
	photo := fourMBJPEG()
	if n := int64(len(photo)); n <= 3_750_000 || n >= 5_000_000 {
		t.Fatalf("test photo is %d bytes, want between 3.75 and 5 MB", n)
	}
	text := bytes.Repeat([]byte("Chest clear. "), 4_000_000/13)
	for _, tt := range []struct {
		name       string
		basis      conneqt.LimitBasis
		file, mime string
		data       []byte
		changed    bool   // the downsample stage changed the content
		problem    string // "" for none
	}{
		{"photo, decoded", conneqt.LimitDecoded, "photo.jpg", conneqt.MIMEJPEG, photo, false, ""},
		{"photo, base64", conneqt.LimitBase64, "photo.jpg", conneqt.MIMEJPEG, photo, true, ""},
		{"text, decoded", conneqt.LimitDecoded, "notes.txt", conneqt.MIMEText, text, false, ""},
		{"text, base64", conneqt.LimitBase64, "notes.txt", conneqt.MIMEText, text,
			false, "more than the 5000000 bytes of Base64 (3750000 decoded bytes) the instant route accepts per attachment"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := stages.Default(stages.Options{DryRunDir: t.TempDir(), Routes: limitRoutes(t, 5_000_000, tt.basis)})
			if err != nil {
				t.Fatal(err)
			}
			if p.Names()[0] != stages.RoutesStage {
				t.Fatalf("stages %v: no %s stage first", p.Names(), stages.RoutesStage)
			}
			doc := limitDoc(tt.file, tt.mime, bytes.Clone(tt.data))
			err = (&pipeline.Runner{Stages: p}).Process(context.Background(), doc)
			if tt.problem != "" {
				var ve *conneqt.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[0].content" ||
					!strings.Contains(ve.Problems[0].Reason, tt.problem) {
					t.Fatalf("err %v, want a problem for attachments[0].content saying %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out := doc.Message.Attachments[0].Data
			if changed := !bytes.Equal(out, tt.data); changed != tt.changed {
				t.Errorf("content changed %v, want %v (%d -> %d bytes; changes %v)", changed, tt.changed, len(tt.data), len(out), doc.Changes())
			}
			if enc := b64.EncodedLen(int64(len(out))); tt.basis == conneqt.LimitBase64 && enc > 5_000_000 {
				t.Errorf("Base64 of the result is %d bytes, over the 5000000 limit", enc)
			}
			if doc.Route.LimitBasis != tt.basis {
				t.Errorf("document's route has basis %q, want %q", doc.Route.LimitBasis, tt.basis)
			}
		})
	}
}
