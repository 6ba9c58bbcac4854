package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/transport"
)

// Classify maps a document's outcome to the ledger state it ends in, as
// transport.Classify does: nil is sent; a *pipeline.ValidationError or the
// service's 400 is invalid; a 406 is rejected-content; 429, 5xx and network
// failures are failed-retryable; 401, 403, 409 and anything else (a stage
// that failed) are failed-permanent. Both failed states are tried again by a
// re-run. [Run] handles an interrupted document itself: its ledger entry is
// left pending or sending, and a re-run resumes it.
func Classify(err error) ledger.State {
	switch transport.Classify(err) {
	case transport.Sent:
		return ledger.Sent
	case transport.Invalid:
		return ledger.Invalid
	case transport.RejectedContent:
		return ledger.RejectedContent
	case transport.FailedRetryable:
		return ledger.FailedRetryable
	}
	return ledger.FailedPermanent
}

// interrupted reports whether err is the run's own cancellation.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// problemFor renders err as an RFC 7807 problem for the ledger and report.
func problemFor(err error, messageID string) *pipeline.ProblemDetails {
	if err == nil {
		return nil
	}
	var ve *pipeline.ValidationError
	if errors.As(err, &ve) {
		return ve.ProblemDetails(messageID)
	}
	var pd *pipeline.ProblemDetails
	if errors.As(err, &pd) {
		return pd
	}
	title := "Processing failed"
	var se *pipeline.StageError
	if errors.As(err, &se) {
		title = fmt.Sprintf("The %s stage failed", se.Stage)
	}
	return &pipeline.ProblemDetails{Title: title, Detail: err.Error(), Instance: messageID}
}

func problemJSON(p *pipeline.ProblemDetails) json.RawMessage {
	if p == nil {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil
	}
	return b
}
