// Package sizegate is the "sizegate" stage: gpdoc's one check of the
// per-attachment size limit. It runs after the downsample stage, which
// aims under the same limit (conneqt.Route.MaxDecodedBytes), so it refuses
// only what could not be fitted: text, and images and PDFs downsample could
// not bring under the limit. It judges each attachment from its decoded
// size alone, with conneqt.Route.CheckAttachmentSize, because the Base64
// size follows from it exactly (docs/spec.md#size-limit): nothing is
// encoded here. The Base64 is produced while the assembled message streams
// (the encode+assemble stage, package stages/assemble).
package sizegate

import (
	"context"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Name is the stage's name in pipelines, events and errors.
const Name = "sizegate"

// Stage is the size gate. Its zero value is ready to use and it is safe for
// concurrent use.
type Stage struct{}

// New returns the size gate.
func New() *Stage { return &Stage{} }

var (
	_ pipeline.AttachmentStage  = (*Stage)(nil)
	_ pipeline.ProblemCollector = (*Stage)(nil)
)

// Name returns "sizegate".
func (*Stage) Name() string { return Name }

// CollectsProblems reports true: the check is cheap and pure, so it runs on
// every attachment even once another has a problem, and one report lists
// every attachment that is too large.
func (*Stage) CollectsProblems() bool { return true }

// ProcessAttachment reports attachment i as a problem if it is larger than
// its route allows. It reads only the attachment's length.
func (*Stage) ProcessAttachment(ctx context.Context, doc *pipeline.Document, i int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := doc.Message.Attachments[i]
	if p, ok := doc.Route.CheckAttachmentSize(i, int64(len(a.Data))); !ok {
		return conneqt.NewValidationError([]conneqt.Problem{p})
	}
	return nil
}
