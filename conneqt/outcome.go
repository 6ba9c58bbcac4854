package conneqt

import (
	"context"
	"errors"
	"slices"
)

// Sentinel errors for the service's answers, for errors.Is. The transport's
// errors match the one their HTTP status stands for; [ErrInvalid] (a 400, or
// gpdoc's own validation) is in problem.go.
var (
	// ErrRejectedContent matches a 406: an attachment failed the service's
	// virus scan. The message (and that attachment) must never be resent.
	ErrRejectedContent = errors.New("attachment rejected by the service's virus scan")
	// ErrUnauthorized matches a 401 (missing or unknown ApiKey) and a 403
	// (key valid but not allowed on this route, e.g. instant without an
	// AccessToken grant).
	ErrUnauthorized = errors.New("not authorised")
	// ErrConflict matches a 409: the messageId was already used for a message
	// with different content.
	ErrConflict = errors.New("messageId already used for different content")
	// ErrUnavailable matches the transient statuses (429, 5xx): the service
	// could not take the message now.
	ErrUnavailable = errors.New("service unavailable")
	// ErrUnconfirmed matches an answer to a send whose meaning cannot be
	// established after the bytes left: a success status whose body is not
	// the API's JSON, or names a status endpoint on another host; a
	// redirect. The message may have been delivered: it must be resent only
	// with the same messageId and the same bytes.
	ErrUnconfirmed = errors.New("the service's answer does not establish whether it took the message")
)

// Outcome is gpdoc's one vocabulary for how a message stands: the outcome of
// a send (classified by [Classify]), the state a delivery ledger records
// (ledger.State is this type) and the result a backfill reports (package
// backfill adds run-level results such as skipped). Its value is the text
// stored in ledgers and reports.
type Outcome string

// The outcomes of processing and sending a message, in life order.
const (
	// Pending: claimed for processing, nothing sent yet.
	Pending Outcome = "pending"
	// Sending: bytes may have left and no answer has said what became of
	// them; a resend must carry the same messageId and the same bytes.
	Sending Outcome = "sending"
	// Sent: the service accepted the message.
	Sent Outcome = "sent"
	// Invalid: the message is invalid (gpdoc's validation or the service's 400).
	Invalid Outcome = "invalid"
	// FailedRetryable: not accepted this time (service unavailable, network
	// failure, retries exhausted, run interrupted); sending the same
	// messageId and body again later is safe.
	FailedRetryable Outcome = "failed-retryable"
	// FailedPermanent: sending again will fail the same way until something
	// changes (credentials, configuration, a stage failure).
	FailedPermanent Outcome = "failed-permanent"
	// RejectedContent: a 406 virus-scan failure; never resend.
	RejectedContent Outcome = "rejected-content"
)

// Outcomes lists every outcome in life order.
var Outcomes = []Outcome{Pending, Sending, Sent, Invalid, FailedRetryable, FailedPermanent, RejectedContent}

// String returns the outcome's text.
func (o Outcome) String() string { return string(o) }

// Valid reports whether o is one of [Outcomes].
func (o Outcome) Valid() bool { return slices.Contains(Outcomes, o) }

// Final reports whether a message whose outcome is o is finished with: sent,
// invalid or rejected-content. A re-run skips it (package ledger's Decide
// holds the exceptions).
func (o Outcome) Final() bool { return o == Sent || o == Invalid || o == RejectedContent }

// MayHaveBeenDelivered reports whether a message whose outcome is o may have
// reached the service: bytes left for it and no answer said it was refused.
func (o Outcome) MayHaveBeenDelivered() bool {
	return o == Sending || o == Sent || o == FailedRetryable
}

// Classify maps the result of a send, or of a whole pipeline run of a
// document, to its Outcome: nil is [Sent]; [ErrUnconfirmed] (an answer
// that does not say whether the message was taken) is [FailedRetryable],
// whatever else it matches; [ErrRejectedContent] is
// [RejectedContent]; [ErrInvalid] (a *ValidationError or the service's 400)
// is [Invalid]; cancellation is [FailedRetryable]; an error that says it is
// temporary (a `Temporary() bool` method anywhere in its chain, as the
// transport's API and network errors have) is [FailedRetryable] when it says
// true; anything else is [FailedPermanent].
func Classify(err error) Outcome {
	if err == nil {
		return Sent
	}
	if errors.Is(err, ErrUnconfirmed) {
		return FailedRetryable
	}
	if errors.Is(err, ErrRejectedContent) {
		return RejectedContent
	}
	if errors.Is(err, ErrInvalid) {
		return Invalid
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return FailedRetryable
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return FailedRetryable
	}
	return FailedPermanent
}

// Retryable reports whether sending again later (same messageId, same body)
// may succeed: Classify(err) == FailedRetryable.
func Retryable(err error) bool { return Classify(err) == FailedRetryable }

// Permanent reports whether err is a failure that sending again cannot fix
// (FailedPermanent, RejectedContent or Invalid). Permanent(nil) is false.
func Permanent(err error) bool {
	switch Classify(err) {
	case FailedPermanent, RejectedContent, Invalid:
		return true
	}
	return false
}
