// Package ledger records what happened to every message of a backfill, so
// that an interrupted or crashed run can be re-run without losing a document
// or sending one twice.
//
// A [Ledger] keeps one [Entry] per messageId: the manifest line it came from,
// the line's content hash, its [State], the number of send attempts, the last
// problem and the status endpoint the service returned. [Decide] and
// [StateAfterClaim] hold the re-run rules, so every implementation applies
// them the same way; package ledgertest checks an implementation against
// them. Implementations: [Memory] (in memory, for tests), package
// ledger/sqlite (an SQLite file, pure Go, gpdoc's default) and package
// ledger/postgres (a PostgreSQL database shared by many workers, with
// leases); package ledger/open picks one from a target string.
//
// Optional capabilities are separate interfaces a caller checks for with a
// type assertion: [ContentBlocker], [BatchClaimer], [Lister] and
// [FleetStater].
//
// # States
//
//	pending           claimed by a run, nothing sent yet
//	sending           marked before the first byte of a send leaves; a crash
//	                  leaves it here, and a re-run sends again with the same
//	                  messageId (the service de-duplicates on it)
//	sent              the service accepted it (terminal)
//	invalid           gpdoc or the service found problems in the input (terminal
//	                  until the line changes and --retry-invalid is given)
//	failed-retryable  a failure a later attempt may get past (5xx, network)
//	failed-permanent  a failure that needs a change of set-up (401, 403...)
//	rejected-content  the service refused the content, e.g. a virus scan (406):
//	                  never re-sent unchanged
//
// # Payloads
//
// [Ledger.MarkSending] records the SHA-256 of the bytes about to be sent.
// Once a message may have been delivered, a resend must carry exactly those
// bytes: MarkSending refuses a different payload hash with a
// [*PayloadConflictError] and leaves the entry as it was. Each claim also
// returns the time of the entry's first claim ([Decision.FirstClaimed]),
// which the pipeline uses wherever the message needs "now", so that a
// resend is byte-identical.
//
// # One run at a time
//
// A ledger opened for a run is held by that run alone: [LockFile] takes an
// exclusive lock beside a ledger file (released on Close and by the
// operating system when the process dies) and records its [Holder]; a
// second run gets a [*LockedError] naming the holder. Read-only handles
// take no lock. A shared ledger (several workers) can implement [RunLock]
// as a lease.
//
// # Changed lines
//
// A messageId that may already have reached the service (sending, sent or
// failed-retryable) is never sent with different content: a changed line for
// such an id is a [Conflict], reported and left alone. The id was derived
// from, or given by, the sending system; to send corrected content, give the
// line a new messageId (or sourceId). See [Decide].
package ledger

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// State is where a message is in its life: gpdoc's one outcome vocabulary,
// [conneqt.Outcome], shared with transport and backfill. The values are
// stored as text.
type State = conneqt.Outcome

// The states, named here for reading convenience. See the package
// documentation.
const (
	Pending         = conneqt.Pending
	Sending         = conneqt.Sending
	Sent            = conneqt.Sent
	Invalid         = conneqt.Invalid
	FailedRetryable = conneqt.FailedRetryable
	FailedPermanent = conneqt.FailedPermanent
	RejectedContent = conneqt.RejectedContent
)

// States lists every state in life order.
var States = conneqt.Outcomes

// ErrNotFound is returned by [Ledger.Get] for an id the ledger does not hold.
var ErrNotFound = errors.New("ledger: no such message")

// ErrNotClaimed is returned when a message is marked or finished without a
// claim by this ledger handle's run.
var ErrNotClaimed = errors.New("ledger: message not claimed by this run")

// ErrLeaseLost is returned (together with [ErrNotClaimed]: errors.Is matches
// both) when this worker's lease on a message expired and another worker
// took the message over: this worker must not send it or record its outcome.
var ErrLeaseLost = errors.New("ledger: lease lost to another worker")

// Item is what the ledger needs to know about a manifest line to claim it.
type Item struct {
	MessageID string
	SourceID  string
	Line      int    // 1-based manifest line
	Hash      string // manifest.Line.Hash: SHA-256 of the line's bytes
}

// Entry is one message's record.
type Entry struct {
	MessageID      string          `json:"messageId"`
	SourceID       string          `json:"sourceId,omitempty"`
	Line           int             `json:"line"`
	Hash           string          `json:"hash"`
	State          State           `json:"state"`
	Attempts       int             `json:"attempts"`
	Problem        json.RawMessage `json:"problem,omitempty"` // last problem, an RFC 7807 object
	StatusEndpoint string          `json:"statusEndpoint,omitempty"`
	RunID          string          `json:"runId"` // the run that last claimed it
	// LeaseUntil is when the claim of RunID expires, on ledgers shared by
	// many workers (zero: not leased, or a ledger without leases).
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
	// PayloadSHA256 is the hex SHA-256 of the payload recorded by the
	// first MarkSending since the entry last went back to pending (empty:
	// nothing sent since). A resend must carry exactly these bytes.
	PayloadSHA256 string    `json:"payloadSha256,omitempty"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
}

// Action is what a run does with a claimed line.
type Action int

// The actions [Decide] returns.
const (
	// Process: run the line through the pipeline and send it.
	Process Action = iota + 1
	// Skip: the line needs nothing more (already sent, or invalid and unchanged).
	Skip
	// Conflict: the line changed but its messageId may already have been
	// delivered with the old content; nothing is sent and the entry is left
	// as it is.
	Conflict
	// Duplicate: the same messageId was already claimed earlier in this run
	// (the manifest repeats it); nothing is sent.
	Duplicate
	// Busy: another live worker holds the message's lease (a shared ledger,
	// see [Leased]); nothing is done with it now. The line is not final: a
	// run that met a busy line must not report that everything is done, and
	// a later run picks it up if the other worker did not finish it.
	Busy
)

// String names the action: "process", "skip", "conflict", "duplicate" or
// "busy".
func (a Action) String() string {
	switch a {
	case Process:
		return "process"
	case Skip:
		return "skip"
	case Conflict:
		return "conflict"
	case Duplicate:
		return "duplicate"
	case Busy:
		return "busy"
	}
	return "unknown"
}

// Decision is the outcome of a claim.
type Decision struct {
	Action Action
	// Resend is set when a previous run left the message sending or
	// failed-retryable: it is sent again with the same messageId.
	Resend bool
	// Reason says why, in words, for reports (empty for a new line).
	Reason string
	// Previous is the entry before the claim (nil for a new message).
	Previous *Entry
	// TakeOver is set when the message was leased to another worker whose
	// lease expired (it stopped or died): this claim takes it over. Only
	// ledgers with leases set it.
	TakeOver bool
	// FirstClaimed is the time of the entry's first claim (for a new
	// message, this claim): the message's reference time, used wherever it
	// needs "now" so that a resend is byte-identical. Set for Process.
	FirstClaimed time.Time
}

// ClaimOptions change the re-run rules.
type ClaimOptions struct {
	// RetryInvalid re-processes invalid and rejected-content messages whose
	// line changed (a new content hash).
	RetryInvalid bool
}

// Decide applies the re-run rules to a line whose messageId has entry prev
// (nil if new), for a run called runID:
//
//   - new: Process.
//   - claimed earlier by this same run: Duplicate if the line is the same,
//     Conflict if it changed (two lines with one messageId: neither
//     silently wins).
//   - sent: Skip; if the line changed, Conflict (never send other content
//     under an id already sent).
//   - invalid, rejected-content: Skip; Process only if opts.RetryInvalid and
//     the hash changed.
//   - sending, failed-retryable (may have been delivered): Process with
//     Resend, same messageId, if the hash is unchanged; Conflict if it changed.
//   - pending, failed-permanent (nothing was delivered): Process, with the
//     new hash if it changed.
func Decide(prev *Entry, it Item, runID string, opts ClaimOptions) Decision {
	if prev == nil {
		return Decision{Action: Process}
	}
	d := Decision{Previous: prev}
	changed := prev.Hash != it.Hash
	switch {
	case prev.RunID == runID && runID != "" && changed:
		d.Action, d.Reason = Conflict, "messageId appears earlier in this manifest (line "+strconv.Itoa(prev.Line)+") with different content; give each document its own messageId (or sourceId)"
	case prev.RunID == runID && runID != "":
		d.Action, d.Reason = Duplicate, "messageId appears earlier in this manifest (line "+strconv.Itoa(prev.Line)+")"
	case prev.State == Sent && changed:
		d.Action, d.Reason = Conflict, "already sent with different content (line changed); give the changed document a new messageId"
	case prev.State == Sent:
		d.Action, d.Reason = Skip, "already sent"
	case prev.State == Invalid || prev.State == RejectedContent:
		switch {
		case changed && opts.RetryInvalid:
			d.Action, d.Reason = Process, string(prev.State)+" before; line changed, retrying (--retry-invalid)"
		case changed:
			d.Action, d.Reason = Skip, string(prev.State)+" before; line changed: use --retry-invalid to try it again"
		default:
			d.Action, d.Reason = Skip, string(prev.State)+" before and unchanged"
		}
	case prev.State.MayHaveBeenDelivered() && changed:
		d.Action, d.Reason = Conflict, string(prev.State)+" before, so the service may hold the old content; the line changed: restore it, or give the changed document a new messageId"
	case prev.State.MayHaveBeenDelivered():
		d.Action, d.Resend, d.Reason = Process, true, string(prev.State)+" before; sending again with the same messageId"
	default: // pending, failed-permanent
		d.Action, d.Reason = Process, string(prev.State)+" before; retrying"
	}
	return d
}

// ErrPayloadConflict matches a [*PayloadConflictError].
var ErrPayloadConflict = errors.New("ledger: the payload differs from the one already sent under this messageId")

// PayloadConflictError is a resend whose payload is not the one recorded at
// the earlier send: sending it could put other content under an id the
// service may already hold. It is never sent.
type PayloadConflictError struct {
	MessageID string
	Recorded  string // hex SHA-256 recorded at the earlier send
	Now       string // hex SHA-256 of the payload prepared now
}

// Error names both hashes in short form.
func (e *PayloadConflictError) Error() string {
	return fmt.Sprintf("messageId %s: the payload prepared now (sha256 %s) differs from the one sent before (sha256 %s); not sent",
		e.MessageID, ShortHash(e.Now), ShortHash(e.Recorded))
}

// Is matches [ErrPayloadConflict].
func (e *PayloadConflictError) Is(target error) bool { return target == ErrPayloadConflict }

// ShortHash is the first 12 hex digits of a hash, for messages.
func ShortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// CheckPayload returns a [*PayloadConflictError] if recorded is set and
// differs from now. Every implementation's MarkSending calls it.
func CheckPayload(messageID, recorded, now string) error {
	if recorded != "" && recorded != now {
		return &PayloadConflictError{MessageID: messageID, Recorded: recorded, Now: now}
	}
	return nil
}

// StateAfterClaim is the state a claim for processing leaves an entry in:
// pending for a new entry and for one whose earlier outcome is being retried
// from scratch; sending and failed-retryable are kept (until MarkSending), so
// that a crash between the claim and the send still shows that the message
// may have been delivered. An entry a claim leaves pending forgets its
// payload hash (nothing under the id can have been delivered).
func StateAfterClaim(prev *Entry) State {
	if prev == nil || prev.State.Final() || prev.State == FailedPermanent {
		return Pending
	}
	return prev.State
}

// Outcome is how a processed message ended, for [Ledger.Finish].
type Outcome struct {
	State          State
	Problem        json.RawMessage // nil: keep no problem
	StatusEndpoint string
}

// Stats counts messages by state.
type Stats map[State]int

// Total is the number of messages the ledger holds.
func (s Stats) Total() int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// ContentBlocker is implemented by ledgers that remember attachments the
// service refused for their content (a 406: the virus scan failed), which
// must never be sent again, whatever message they come in. Attachments are
// named by the hex SHA-256 of their decoded bytes.
type ContentBlocker interface {
	// BlockContent records the attachments of messageID that were refused.
	BlockContent(ctx context.Context, messageID string, sha256s []string) error
	// BlockedContent returns those of sha256s that were refused before.
	BlockedContent(ctx context.Context, sha256s []string) ([]string, error)
}

// Ledger is the record of a backfill. One handle is one run: it claims lines
// under its own run id. Implementations are safe for concurrent use and make
// every write transactional, so that a crash at any point leaves each entry
// in one of its states.
type Ledger interface {
	// Claim records it for this run (inserting a pending entry or updating
	// the existing one as [Decide] says) and returns the decision.
	Claim(ctx context.Context, it Item, opts ClaimOptions) (Decision, error)
	// MarkSending moves a claimed message to sending, counts an attempt and
	// records payloadSHA256 (the hex SHA-256 of the bytes about to be sent);
	// call it before any byte of the message leaves. It returns the attempts
	// so far, this one included. If the entry already holds a different
	// payload hash (a resend whose bytes changed), nothing is written and the
	// error is a [*PayloadConflictError]: the message must not be sent.
	MarkSending(ctx context.Context, messageID, payloadSHA256 string) (attempts int, err error)
	// Finish records a claimed message's outcome.
	Finish(ctx context.Context, messageID string, o Outcome) error
	// Get returns the entry for a messageId, or [ErrNotFound].
	Get(ctx context.Context, messageID string) (Entry, error)
	// Stats counts entries by state.
	Stats(ctx context.Context) (Stats, error)
	// Close flushes and releases the ledger.
	Close() error
}
