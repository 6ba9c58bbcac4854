package sizegate_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/sizegate"
)

func TestStage(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Standard)
	doc := &pipeline.Document{Route: route, Message: &conneqt.Message{Attachments: []*conneqt.Attachment{
		{FileName: "small.pdf", Data: make([]byte, 100)},
		{FileName: "big.pdf", Data: make([]byte, route.MaxAttachmentBytes+1)},
	}}}
	s := sizegate.New()
	if s.Name() != "sizegate" {
		t.Errorf("Name = %q", s.Name())
	}
	ctx := context.Background()
	if err := s.ProcessAttachment(ctx, doc, 0); err != nil {
		t.Errorf("small attachment: %v", err)
	}
	err := s.ProcessAttachment(ctx, doc, 1)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1].content" {
		t.Errorf("big attachment: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.ProcessAttachment(cancelled, doc, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The runner runs the stage on every attachment and lists every one that is
// too large.
func TestStageInRunner(t *testing.T) {
	route := conneqt.MustRoute(conneqt.Instant)
	var atts []*conneqt.Attachment
	for _, n := range []int64{1, route.MaxAttachmentBytes + 1, route.MaxAttachmentBytes, route.MaxAttachmentBytes + 2} {
		atts = append(atts, &conneqt.Attachment{FileName: "f.pdf", Data: make([]byte, n)})
	}
	doc := &pipeline.Document{Route: route, Message: &conneqt.Message{Attachments: atts}}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{sizegate.New()}}
	err := r.Process(context.Background(), doc)
	if !errors.Is(err, conneqt.ErrInvalid) {
		t.Fatalf("Process = %v, want ErrInvalid", err)
	}
	var names []string
	for _, p := range doc.Problems() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "attachments[1].content attachments[3].content" {
		t.Errorf("problems on %s", got)
	}
}
