package conneqt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrInvalid matches every *ValidationError.
	ErrInvalid = errors.New("invalid message")
	// ErrUnknownRoute is returned for a route name or type gpdoc does not know.
	ErrUnknownRoute = errors.New("unknown route")
)

// Problem is one invalid parameter, in the shape of the API's
// invalidParameters entries: Name is the API's JSON path
// ("attachments[2].fileName", "subject.id.value"), Reason says what is wrong
// and what would be valid, Value is the offending value where it is safe to
// show (never a full NHS number, never attachment content).
type Problem struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
	Value  string `json:"value,omitempty"`
}

// String returns the problem as "name: reason".
func (p Problem) String() string {
	if p.Value != "" {
		return fmt.Sprintf("%s: %s (got %q)", p.Name, p.Reason, p.Value)
	}
	return p.Name + ": " + p.Reason
}

// ValidationError lists every problem found in one message. It matches
// ErrInvalid with errors.Is and renders as an RFC 7807 problem with
// ProblemDetails.
type ValidationError struct {
	Problems []Problem
}

// NewValidationError returns a *ValidationError for problems, or nil if there
// are none, so that callers can write `return pipeline.NewValidationError(ps)`.
func NewValidationError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: problems}
}

// Error lists the problems.
func (e *ValidationError) Error() string {
	switch len(e.Problems) {
	case 0:
		return "invalid message"
	case 1:
		return "invalid message: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid message: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Is matches ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// ProblemDetails renders the error as an RFC 7807 problem of status 400 with
// the conneQt extension member invalidParameters. instance may be empty.
func (e *ValidationError) ProblemDetails(instance string) *ProblemDetails {
	return &ProblemDetails{
		Type:              ValidationProblemType,
		Title:             "Request Validation Error",
		Status:            400,
		Detail:            "Invalid parameters",
		Instance:          instance,
		InvalidParameters: append([]Problem(nil), e.Problems...),
	}
}

// ValidationProblemType is the problem type gpdoc and its simulator use for
// validation errors. The service's pages print it without the colon after
// "https" (docs/spec.md#mistakes-in-the-api-pages); gpdoc uses a valid absolute URI.
const ValidationProblemType = "https://qxlva.com/im1toolbar/documentation/api/v1/validation-error"

// ProblemContentType is the media type of RFC 7807 problems in JSON.
const ProblemContentType = "application/problem+json"

// ProblemDetails is an RFC 7807 problem with conneQt's invalidParameters
// extension. Unknown members are ignored on input, as RFC 7807 §3.2 asks.
type ProblemDetails struct {
	Type              string    `json:"type,omitempty"`
	Title             string    `json:"title,omitempty"`
	Status            int       `json:"status,omitempty"`
	Detail            string    `json:"detail,omitempty"`
	Instance          string    `json:"instance,omitempty"`
	InvalidParameters []Problem `json:"invalidParameters,omitempty"`
}

// MarshalIndent is a convenience for printing a problem.
func (p *ProblemDetails) MarshalIndent() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return b
}

// Error returns the status, title, detail and invalid parameters.
func (p *ProblemDetails) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", p.Status, p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	for _, ip := range p.InvalidParameters {
		b.WriteString("; " + ip.String())
	}
	return b.String()
}
