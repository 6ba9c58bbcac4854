// Package send is gpdoc's last stage: it delivers a document's assembled
// payload to the conneQt service through a Sender (a *transport.Client) and
// records the status endpoint the service returns.
package send

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/transport"
)

// Name is the stage's name.
const Name = "send"

// ErrNoPayload is returned for a document the assemble stage has not run on.
var ErrNoPayload = errors.New("no assembled payload: the assemble stage must run before send")

// Sender delivers one assembled message. *transport.Client implements it.
type Sender interface {
	Send(ctx context.Context, route *conneqt.Route, messageID string, body pipeline.Payload) (*transport.SendResult, error)
}

var _ Sender = (*transport.Client)(nil)

// Stage is the send stage, a pipeline.MessageStage. It is safe for
// concurrent use if its Sender is.
type Stage struct {
	sender Sender
}

var _ pipeline.MessageStage = (*Stage)(nil)

// New returns a send stage that delivers through sender.
func New(sender Sender) *Stage { return &Stage{sender: sender} }

// Name returns "send".
func (s *Stage) Name() string { return Name }

// ProcessMessage sends doc.Payload on doc.Route with doc.Message.MessageID
// and sets doc.StatusEndpoint. Its errors keep their transport types, so
// conneqt.Classify tells the outcomes apart:
//
//   - a 400 whose problem lists invalidParameters unwraps to a
//     *conneqt.ValidationError: a pipeline.Runner records the service's
//     problems on the document (Classify: Invalid);
//   - a 406 comes back as a *RejectedError naming the attachments' digests,
//     which must never be sent again (Classify: RejectedContent);
//   - everything else is the transport's *APIError, *NetworkError or ctx's
//     error, wrapped with the messageId.
func (s *Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	if doc.Payload == nil {
		return ErrNoPayload
	}
	res, err := s.sender.Send(ctx, doc.Route, doc.Message.MessageID, doc.Payload)
	if err != nil {
		if errors.Is(err, conneqt.ErrRejectedContent) {
			return &RejectedError{MessageID: doc.Message.MessageID, AttachmentSHA256: DocumentDigests(doc), Err: err}
		}
		var ve *conneqt.ValidationError
		if errors.As(err, &ve) {
			return err // the Runner records its problems; wrapping would hide nothing
		}
		return fmt.Errorf("messageId %s: %w", doc.Message.MessageID, err)
	}
	doc.StatusEndpoint = res.StatusEndpoint
	return nil
}

// RejectedError is a message the service refused for its content (a 406:
// an attachment failed virus scanning). The service does not say which
// attachment; AttachmentSHA256 lists the hex SHA-256 of every attachment's
// decoded bytes so that a ledger can refuse to send any of them again.
type RejectedError struct {
	MessageID        string
	AttachmentSHA256 []string
	Err              error
}

// Error describes the rejection.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("messageId %s: content rejected, never resend these attachments: %v", e.MessageID, e.Err)
}

// Unwrap returns the transport error (it matches conneqt.ErrRejectedContent).
func (e *RejectedError) Unwrap() error { return e.Err }

// DocumentDigests returns the hex SHA-256 of each of doc's attachments as
// it is sent: from its payload when that has them (assemble.Payload
// computes them once, with its digest), else from the message (Digests).
func DocumentDigests(doc *pipeline.Document) []string {
	d, ok := doc.Payload.(interface{ AttachmentDigests() [][32]byte })
	if !ok {
		return Digests(doc.Message)
	}
	sums := d.AttachmentDigests()
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = hex.EncodeToString(s[:])
	}
	return out
}

// Digests returns the hex SHA-256 of each attachment's bytes, in order.
func Digests(msg *conneqt.Message) []string {
	out := make([]string, len(msg.Attachments))
	for i, a := range msg.Attachments {
		sum := sha256.Sum256(a.Data)
		out[i] = hex.EncodeToString(sum[:])
	}
	return out
}
