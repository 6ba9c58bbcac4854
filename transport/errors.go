package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Sentinel errors of the client's set-up, for errors.Is. An [*APIError]
// matches the conneqt sentinel its status stands for ([conneqt.ErrInvalid],
// [conneqt.ErrUnauthorized], [conneqt.ErrRejectedContent],
// [conneqt.ErrConflict], [conneqt.ErrUnavailable]); [conneqt.Classify] turns
// any of them into an outcome.
var (
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
	Problem    *conneqt.ProblemDetails
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
	fmt.Fprintf(&b, "transport: %s %s", e.Method, e.Path)
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

// Is matches the conneqt sentinel the status stands for: ErrInvalid (400),
// ErrUnauthorized (401, 403), ErrRejectedContent (406), ErrConflict (409),
// ErrUnavailable (429, 5xx).
func (e *APIError) Is(target error) bool {
	switch target {
	case conneqt.ErrInvalid:
		return e.Status == http.StatusBadRequest
	case conneqt.ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case conneqt.ErrRejectedContent:
		return e.Status == http.StatusNotAcceptable
	case conneqt.ErrConflict:
		return e.Status == http.StatusConflict
	case conneqt.ErrUnavailable:
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return false
}

// Unwrap returns, for a 400 whose problem lists invalidParameters, a
// *conneqt.ValidationError with them (names are the message's JSON paths,
// as gpdoc's own problems are), so that errors.As finds it and a
// pipeline.Runner records them on the document. Otherwise nil.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusBadRequest && e.Problem != nil && len(e.Problem.InvalidParameters) > 0 {
		return &conneqt.ValidationError{Problems: append([]conneqt.Problem(nil), e.Problem.InvalidParameters...)}
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
	return fmt.Sprintf("transport: %s %s%s: %v%s", e.Method, e.Path, id, e.Err, att)
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

// UnconfirmedError is an answer to a send whose meaning gpdoc cannot
// establish although the message's bytes left: a success status whose body
// is not the API's JSON or holds no usable messageStatusEndpoint (missing,
// or on another host), or a redirect. The message may have been delivered,
// so it matches [conneqt.ErrUnconfirmed] and [conneqt.Classify] makes it
// FailedRetryable: it may be resent only with the same messageId and the
// same bytes. It is not retried within the call.
type UnconfirmedError struct {
	Method, Path string
	MessageID    string
	Status       int
	// Reason says what could not be read.
	Reason   string
	Attempts int
	// Err is the underlying error, if any (an *APIError, ErrInsecure...).
	Err error
}

// Error says what was answered and that the message may have been delivered.
func (e *UnconfirmedError) Error() string {
	return fmt.Sprintf("transport: %s %s (messageId %s): answered %d %s, but %s: the message may have been delivered; a re-run sends the same bytes under the same messageId",
		e.Method, e.Path, e.MessageID, e.Status, http.StatusText(e.Status), e.Reason)
}

// Is matches conneqt.ErrUnconfirmed.
func (e *UnconfirmedError) Is(target error) bool { return target == conneqt.ErrUnconfirmed }

// Unwrap returns the underlying error.
func (e *UnconfirmedError) Unwrap() error { return e.Err }
