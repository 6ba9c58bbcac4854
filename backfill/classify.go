package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gpdoc/gpdoc/ledger"

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

// digestPayload is a payload that identifies its bytes without producing
// them (assemble.Payload): its Digest is what the ledger records.
type digestPayload interface {
	Digest() [32]byte
}

// payloadSHA256 is the hex digest the ledger records for an assembled
// payload: its Digest when it has one (a SHA-256 over the body with each
// attachment's Base64 stood for by the SHA-256 of its decoded bytes), else
// the SHA-256 of its bytes; empty for none (a pipeline without an assemble
// stage: nothing to compare). Either way, equal bodies give equal digests
// and different bodies different ones.
func payloadSHA256(p pipeline.Payload) (string, error) {
	if p == nil {
		return "", nil
	}
	if d, ok := p.(digestPayload); ok {
		sum := d.Digest()
		return hex.EncodeToString(sum[:]), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, p.NewReader()); err != nil {
		return "", fmt.Errorf("backfill: hashing the payload: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// conflictReason explains a 409: the service holds other content under the
// messageId. recorded is the payload hash of an earlier send (empty if
// none), sent the one sent now.
func conflictReason(recorded, sent string) string {
	var what string
	switch {
	case recorded == "":
		what = "gpdoc sent payload sha256 " + ledger.ShortHash(sent) + " and has no earlier send recorded (was the ledger lost or another system using this id?)"
	case recorded == sent:
		what = "gpdoc resent the same bytes as its earlier send (payload sha256 " + ledger.ShortHash(sent) + "), so the service disagrees about what it holds"
	default:
		what = "recorded payload sha256 " + ledger.ShortHash(recorded) + ", sent now sha256 " + ledger.ShortHash(sent)
	}
	return "the service holds other content under this messageId (409): " + what +
		"; nothing else is sent under it: check what the practice received (gpdoc status), then give this document a new messageId if it must still be sent"
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// redactJSON is the one redaction of what the backfill writes out (the
// report's lines and the ledger's problem JSON): NHS numbers masked and the
// client's key and token removed from every string (internal/redact).
func redactJSON(b []byte) []byte { return redact.JSON(b) }
