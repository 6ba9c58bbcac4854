package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/pipeline"
)

// interrupted reports whether err is the run's own cancellation.
func interrupted(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// problemFor renders err as an RFC 7807 problem for the ledger and report.
func problemFor(err error, messageID string) *conneqt.ProblemDetails {
	if err == nil {
		return nil
	}
	var ve *conneqt.ValidationError
	if errors.As(err, &ve) {
		return ve.ProblemDetails(messageID)
	}
	var pd *conneqt.ProblemDetails
	if errors.As(err, &pd) {
		return pd
	}
	title := "Processing failed"
	var se *pipeline.StageError
	if errors.As(err, &se) {
		title = fmt.Sprintf("The %s stage failed", se.Stage)
	}
	return &conneqt.ProblemDetails{Title: title, Detail: err.Error(), Instance: messageID}
}

func problemJSON(p *conneqt.ProblemDetails) json.RawMessage {
	if p == nil {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil
	}
	return redactJSON(b)
}

// redactJSON is the one redaction of what the backfill writes out (the
// report's lines and the ledger's problem JSON): NHS numbers masked and the
// client's key and token removed from every string (internal/redact).
func redactJSON(b []byte) []byte { return redact.JSON(b) }
