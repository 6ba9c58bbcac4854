package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gpdoc/gpdoc/pipeline"
)

// Sentinel errors, for errors.Is. An [*APIError] matches the one its status
// stands for.
var (
	// ErrRejectedContent matches a 406: an attachment failed the service's
	// virus scan. The message (and that attachment) must never be resent.
	ErrRejectedContent = errors.New("attachment rejected by the service's virus scan")
	// ErrUnauthorized matches a 401 (missing or unknown ApiKey) and a 403
	// (key valid but not allowed on this route, e.g. instant without an
	// AccessToken grant).
	ErrUnauthorized = errors.New("not authorised")
	// ErrInvalid matches a 400. A 400 also matches [pipeline.ErrInvalid], and
	// when its problem lists invalidParameters the *APIError unwraps to a
	// [*pipeline.ValidationError] holding them.
	ErrInvalid = errors.New("request rejected as invalid")
	// ErrConflict matches a 409: the messageId was already used for a message
	// with different content (the simulator's answer; see conneqttest).
	ErrConflict = errors.New("messageId already used for different content")
	// ErrUnavailable matches the transient statuses (429, 5xx): the service
	// could not take the message now.
	ErrUnavailable = errors.New("service unavailable")
	// ErrAccessTokenRequired is returned, before anything is sent, for a
	// route whose AccessToken policy is TokenRequired when the client has no
	// AccessToken.
	ErrAccessTokenRequired = errors.New("this route needs an AccessToken and none is configured")
	// ErrInsecure is returned for a URL that would carry the API key in clear
	// text (http:// to a non-loopback host) or to a host other than the base
	// URL's.
	ErrInsecure = errors.New("refusing to send credentials")
)

// maxBodyPrefix is how much of an unexpected error body an APIError keeps.
const maxBodyPrefix = 512

// APIError is an HTTP answer other than success. Problem is the parsed RFC
// 7807 body when the service sent one (nil for an empty or non-JSON body;
// BodyPrefix then holds the first bytes of the body, for the message).
type APIError struct {
	Method     string // "POST", "GET"
	Path       string // the request path, never with credentials
	MessageID  string // for sends
	Status     int
	Problem    *pipeline.ProblemDetails
	BodyPrefix string
	// RetryAfter is the wait the service asked for (Retry-After), if any.
	RetryAfter time.Duration
	// Attempts is how many requests were made in all.
	Attempts int

	retryable bool
}

// Error describes the status, the problem's title, detail and every
// invalid parameter, or the start of a body that was not a problem.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "conneqt: %s %s", e.Method, e.Path)
	if e.MessageID != "" {
		fmt.Fprintf(&b, " (messageId %s)", e.MessageID)
	}
	fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	if p := e.Problem; p != nil {
		if p.Title != "" {
			b.WriteString(": " + p.Title)
		}
		if p.Detail != "" {
			b.WriteString(": " + p.Detail)
		}
		for _, ip := range p.InvalidParameters {
			b.WriteString("; " + ip.String())
		}
	} else if e.BodyPrefix != "" {
		fmt.Fprintf(&b, ": body %q", e.BodyPrefix)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is matches the sentinel the status stands for: ErrInvalid and
// pipeline.ErrInvalid (400), ErrUnauthorized (401, 403), ErrRejectedContent
// (406), ErrConflict (409), ErrUnavailable (429, 5xx).
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalid, pipeline.ErrInvalid:
		return e.Status == http.StatusBadRequest
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrRejectedContent:
		return e.Status == http.StatusNotAcceptable
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrUnavailable:
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return false
}

// Unwrap returns, for a 400 whose problem lists invalidParameters, a
// *pipeline.ValidationError with them (names are the message's JSON paths,
// as gpdoc's own problems are), so that errors.As finds it and a
// pipeline.Runner records them on the document. Otherwise nil.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusBadRequest && e.Problem != nil && len(e.Problem.InvalidParameters) > 0 {
		return &pipeline.ValidationError{Problems: append([]pipeline.Problem(nil), e.Problem.InvalidParameters...)}
	}
	return nil
}

// Temporary reports whether the request may succeed if made again later
// with the same messageId: the status was one the client retries.
func (e *APIError) Temporary() bool { return e.retryable }

// NetworkError is an attempt that got no HTTP answer: connection refused or
// dropped, TLS failure, per-attempt timeout, a body that broke off.
type NetworkError struct {
	Method, Path string
	MessageID    string
	Attempts     int
	Err          error

	permanent bool
}

// Error describes the request and the cause.
func (e *NetworkError) Error() string {
	id := ""
	if e.MessageID != "" {
		id = " (messageId " + e.MessageID + ")"
	}
	att := ""
	if e.Attempts > 1 {
		att = fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return fmt.Sprintf("conneqt: %s %s%s: %v%s", e.Method, e.Path, id, e.Err, att)
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// Temporary reports whether trying again may help: true except for
// certificate failures.
func (e *NetworkError) Temporary() bool { return !e.permanent }

// permanentNetErr reports network errors that repeating cannot fix.
func permanentNetErr(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &cv)
}

// Outcome is what a delivery ledger records for a send. Its String form is
// the ledger's state name.
type Outcome int

// The outcomes of a send.
const (
	// Sent: the service accepted the message.
	Sent Outcome = iota
	// FailedRetryable: not accepted this time (service unavailable, network
	// failure, retries exhausted, run interrupted); sending the same
	// messageId and body again later is safe.
	FailedRetryable
	// FailedPermanent: sending again will fail the same way until something
	// changes (credentials, configuration, a 409 conflict, a stage failure).
	FailedPermanent
	// RejectedContent: a 406 virus-scan failure; never resend.
	RejectedContent
	// Invalid: the message is invalid (gpdoc's validation or the service's 400).
	Invalid
)

var outcomeNames = [...]string{"sent", "failed-retryable", "failed-permanent", "rejected-content", "invalid"}

// String returns the ledger state name: "sent", "failed-retryable",
// "failed-permanent", "rejected-content" or "invalid".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Classify maps the result of a send (or of a whole pipeline.Runner run of
// a document) to its Outcome.
func Classify(err error) Outcome {
	if err == nil {
		return Sent
	}
	if errors.Is(err, ErrRejectedContent) {
		return RejectedContent
	}
	if errors.Is(err, pipeline.ErrInvalid) {
		return Invalid
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return FailedRetryable
	}
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Temporary() {
			return FailedRetryable
		}
		return FailedPermanent
	}
	var ne *NetworkError
	if errors.As(err, &ne) && ne.Temporary() {
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
