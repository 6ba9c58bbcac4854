package stages_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
)

func TestDefaultPipeline(t *testing.T) {
	tests := []struct {
		name string
		opts stages.Options
		want []string
	}{
		{"send", stages.Options{Sender: nopSender{}}, []string{"validate", "sanitise", "render", "downsample", "sizegate", "encode+assemble", "send"}},
		{"dry run", stages.Options{DryRunDir: t.TempDir()}, []string{"validate", "sanitise", "render", "downsample", "sizegate", "encode+assemble", stages.DryRunStage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := stages.Default(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !slices.Equal(got, tt.want) {
				t.Fatalf("stages %v, want %v", got, tt.want)
			}
			if check, _ := p.Phases(); !slices.Equal(check.Names(), []string{"validate", "sanitise", "render", "downsample", "sizegate"}) {
				t.Errorf("check phase %v, want validate, sanitise, render, downsample and sizegate", check.Names())
			}
		})
	}
	if _, err := stages.Default(stages.Options{}); !errors.Is(err, stages.ErrNoSink) {
		t.Fatalf("a pipeline with neither sender nor dry-run directory: err %v", err)
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *conneqt.Route, string, pipeline.Payload) (*transport.SendResult, error) {
	return &transport.SendResult{StatusEndpoint: "x"}, nil
}

// A JPEG over the limit, or stored sideways (EXIF orientation 6), is
// decoded once, by the downsample stage (to fit it, or to turn it
// upright), not also by validate; one whose scan does not decode must
// still end as a problem of the default pipeline.
func TestUndecodableJPEGDecodedByDownsampleIsStillAProblem(t *testing.T) {
	var small bytes.Buffer
	if err := jpeg.Encode(&small, image.NewGray(image.Rect(0, 0, 3000, 2000)), nil); err != nil {
		t.Fatal(err)
	}
	b := small.Bytes()
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	n := int(b[sos+2])<<8 | int(b[sos+3])
	header := b[2 : sos+2+n] // after SOI, everything up to the scan data
	for _, tc := range []struct {
		name        string
		orientation int
		junk        int
	}{
		{"over the limit", 0, 6_000_000},
		{"sideways, within the limit", 6, 600_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte{0xFF, 0xD8}
			if tc.orientation != 0 {
				data = append(data, segment.OrientationSegment(tc.orientation)...)
			}
			data = append(data, header...)
			junk := make([]byte, tc.junk)
			for i := range junk {
				junk[i] = byte(i*7919%254) + 1 // never 0xFF: no stray markers
			}
			data = append(append(data, junk...), 0xFF, 0xD9)

			p, err := stages.Default(stages.Options{DryRunDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			doc := exampleDoc(&conneqt.Attachment{FileName: "photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: data})
			err = (&pipeline.Runner{Stages: p}).Process(context.Background(), doc)
			var ve *conneqt.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[0].content" {
				t.Fatalf("err = %v, want one problem, for attachments[0].content", err)
			}
			if !strings.Contains(ve.Problems[0].Reason, "decode") {
				t.Errorf("reason %q does not say the image does not decode", ve.Problems[0].Reason)
			}
		})
	}
}

func exampleDoc(atts ...*conneqt.Attachment) *pipeline.Document {
	return &pipeline.Document{Route: conneqt.MustRoute(conneqt.Standard), Message: &conneqt.Message{
		MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876", Type: "ToolbarMessage", Topic: "Health",
		Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
		Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: conneqt.IDVerifiedNHSNumber}},
		Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "notes"},
		Attachments: atts,
	}}
}

// The size limit is checked once, by the size gate after downsample, with
// one wording: text over the limit (which nothing fits) is refused there,
// and every attachment over it is listed.
func TestSizeGate(t *testing.T) {
	p, err := stages.Default(stages.Options{DryRunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	route := conneqt.MustRoute(conneqt.Standard).Clone()
	route.MaxAttachmentBytes = 100
	text := func(name string, n int) *conneqt.Attachment {
		return &conneqt.Attachment{FileName: name, MIMEType: conneqt.MIMEText, Data: bytes.Repeat([]byte("a"), n)}
	}
	doc := exampleDoc(text("a.txt", 101), text("b.txt", 100), text("c.txt", 150))
	doc.Route = route
	var (
		mu        sync.Mutex // Observers are called from many goroutines at once
		stagesRun []string
	)
	r := &pipeline.Runner{Stages: p, Observer: pipeline.ObserverFunc(func(e pipeline.Event) {
		if e.Kind == pipeline.StageFinished && e.Err != nil {
			mu.Lock()
			stagesRun = append(stagesRun, e.Stage)
			mu.Unlock()
		}
	})}
	err = r.Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("err = %v, want two problems", err)
	}
	want0, _ := route.CheckAttachmentSize(0, 101)
	want2, _ := route.CheckAttachmentSize(2, 150)
	if ve.Problems[0] != want0 || ve.Problems[1] != want2 {
		t.Errorf("problems %v, want %v and %v", ve.Problems, want0, want2)
	}
	if !slices.Equal(stagesRun, []string{"sizegate", "sizegate"}) {
		t.Errorf("stages that found problems: %v, want only the size gate", stagesRun)
	}
}

// "attachments":[null] is a problem for its place, never a crash.
func TestNullAttachment(t *testing.T) {
	p, err := stages.Default(stages.Options{DryRunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	doc := exampleDoc(nil, &conneqt.Attachment{FileName: "a.txt", MIMEType: conneqt.MIMEText, Data: []byte("notes")})
	err = (&pipeline.Runner{Stages: p}).Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[0]" {
		t.Fatalf("err = %v, want one problem for attachments[0]", err)
	}
}
