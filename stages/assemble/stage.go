package assemble

import (
	"context"

	"github.com/gpdoc/gpdoc/pipeline"
)

// Name is the stage's name in pipelines, events and errors. The stage is
// named for both things it does: it assembles the wire body and fixes how
// each attachment is encoded to Base64, and that encoding happens while the
// body streams to the service (a separate encode stage would have to hold an
// encoded copy of every attachment).
const Name = "encode+assemble"

// Stage is the encode+assemble stage: it sets doc.Payload to the message's
// streaming wire body, which encodes each attachment's content to Base64 as
// it is read. Its zero value is ready to use and it is safe for concurrent
// use.
type Stage struct{}

// NewStage returns the assemble stage.
func NewStage() *Stage { return &Stage{} }

var _ pipeline.MessageStage = (*Stage)(nil)

// Name returns "encode+assemble".
func (*Stage) Name() string { return Name }

// ProcessMessage assembles doc.Message on doc.Route into doc.Payload. It
// returns a *conneqt.ValidationError for an attachment without content.
func (*Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := New(doc.Route, doc.Message)
	if err != nil {
		return err
	}
	doc.Payload = p
	return nil
}
