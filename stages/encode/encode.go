// Package encode is the "encode" stage: the size-limit hot path before
// assembly. It decides whether each attachment fits its route from the
// decoded size alone, because the encoded size follows from it exactly
// (4*ceil(n/3) bytes of padded Base64): no attachment is encoded, and no
// encoded copy is ever held. The Base64 itself is produced later, while the
// assembled message streams (package stages/assemble).
package encode

import (
	"context"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/b64"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Name is the stage's name in pipelines, events and errors.
const Name = "encode"

// EncodedLen is the exact size of the padded standard Base64 encoding of n
// decoded bytes: 4*ceil(n/3).
func EncodedLen(n int64) int64 { return b64.EncodedLen(n) }

// Fits reports whether an attachment of n decoded bytes is within the route's
// limit under its basis (conneqt.Route.MaxDecodedBytes). A route limit of
// zero or less means no limit.
func Fits(r *conneqt.Route, n int64) bool {
	max := r.MaxDecodedBytes()
	return max <= 0 || n <= max
}

// Check returns the problem for attachment i of n decoded bytes on route r,
// and false, if it is too large; it returns true if it fits. It never looks
// at the bytes.
func Check(r *conneqt.Route, i int, n int64) (conneqt.Problem, bool) {
	if Fits(r, n) {
		return conneqt.Problem{}, true
	}
	return conneqt.Problem{
		Name: conneqt.AttachmentField(i, "content"),
		Reason: fmt.Sprintf("is %d bytes (%d in Base64), more than the %s the %s route accepts per attachment; %v",
			n, EncodedLen(n), r.DescribeLimit(), r.Name, pipeline.ErrTooLarge),
	}, false
}

// Stage is the encode stage. Its zero value is ready to use and it is safe
// for concurrent use.
type Stage struct{}

// New returns the encode stage.
func New() *Stage { return &Stage{} }

var (
	_ pipeline.AttachmentStage  = (*Stage)(nil)
	_ pipeline.ProblemCollector = (*Stage)(nil)
)

// Name returns "encode".
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
	if p, ok := Check(doc.Route, i, int64(len(a.Data))); !ok {
		return conneqt.NewValidationError([]conneqt.Problem{p})
	}
	return nil
}
