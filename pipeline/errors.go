package pipeline

import (
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Sentinel errors of stages, for errors.Is.
var (
	// ErrTooLarge is wrapped by stages when content exceeds a limit they cannot fix.
	ErrTooLarge = errors.New("too large")
	// ErrUnsupported is wrapped when content is valid but gpdoc cannot process it.
	ErrUnsupported = errors.New("unsupported")
)

// StageError is a fatal failure of one stage on one document.
type StageError struct {
	Stage      string
	DocumentID string // the sourceId or messageId
	Attachment int    // index, or -1 for a message stage
	Err        error
}

// Error names the stage, the attachment and the document, and the error.
func (e *StageError) Error() string {
	where := e.Stage
	if e.Attachment >= 0 {
		where += " " + conneqt.AttachmentField(e.Attachment, "")
	}
	if e.DocumentID != "" {
		return fmt.Sprintf("%s: %s: %v", e.DocumentID, where, e.Err)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

// Unwrap returns the stage's error.
func (e *StageError) Unwrap() error { return e.Err }

// Change records something a stage did to a message that keeps its meaning:
// a rename, an encoding conversion, metadata or active content removed, an
// image downsampled. Changes are reported with the message's result.
type Change struct {
	Name   string         `json:"name"`  // JSON path of what changed, e.g. attachments[0].fileName
	Stage  string         `json:"stage"` // the stage that made it
	Action string         `json:"action"`
	Before string         `json:"before,omitempty"`
	After  string         `json:"after,omitempty"`
	Detail string         `json:"detail,omitempty"`
	Data   map[string]any `json:"data,omitempty"` // structured figures (bytes, pixels, quality...)
}
