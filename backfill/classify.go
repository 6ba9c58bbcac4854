package backfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Retryable is implemented by errors that know whether a later attempt may
// succeed (the transport's errors: 5xx and network failures are retryable,
// 401 and 403 are not).
type Retryable interface {
	Retryable() bool
}

// ContentRejecter is implemented by errors for a message the service refused
// because of its content (406, virus scan failed): it must never be re-sent
// unchanged.
type ContentRejecter interface {
	ContentRejected() bool
}

// temporary is the older spelling of Retryable (net.Error, rclone, restic).
type temporary interface {
	Temporary() bool
}

// Classify maps a document's outcome to the ledger state it ends in: nil is
// sent; a *pipeline.ValidationError (or anything matching pipeline.ErrInvalid,
// such as the service's 400) is invalid; a [ContentRejecter] is
// rejected-content; a [Retryable] (or Temporary) error is failed-retryable or
// failed-permanent as it says; anything else is failed-permanent. Both
// failed states are tried again by a re-run. It returns "" for a
// cancellation, which leaves the ledger entry as it is (pending or sending,
// both resumed by a re-run).
func Classify(err error) ledger.State {
	if err == nil {
		return ledger.Sent
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		var r Retryable
		if !errors.As(err, &r) { // a transport timeout says it is retryable itself
			return ""
		}
	}
	var cr ContentRejecter
	if errors.As(err, &cr) && cr.ContentRejected() {
		return ledger.RejectedContent
	}
	if errors.Is(err, pipeline.ErrInvalid) {
		return ledger.Invalid
	}
	var r Retryable
	if errors.As(err, &r) {
		if r.Retryable() {
			return ledger.FailedRetryable
		}
		return ledger.FailedPermanent
	}
	var tmp temporary
	if errors.As(err, &tmp) && tmp.Temporary() {
		return ledger.FailedRetryable
	}
	return ledger.FailedPermanent
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
