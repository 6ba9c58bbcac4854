package ledger

import (
	"context"
	"time"
)

// Lister is implemented by ledgers that can list every entry, for reports
// and reconciliation (gpdoc ledger list, export, status). [Memory] and
// ledger/sqlite implement it.
type Lister interface {
	// List calls fn for every entry, in manifest line order, then messageId,
	// stopping at the first error fn returns (which List returns). fn may
	// call the ledger's other methods.
	List(ctx context.Context, fn func(Entry) error) error
}

// MaxPollsPerDay is the service's polling limit for one message's status:
// clients are asked to poll at most 4 times a day per message.
const MaxPollsPerDay = 4

// PollWindow is the rolling window MaxPollsPerDay counts polls in.
const PollWindow = 24 * time.Hour

// StatusRecord is what the service last said about a message's delivery
// (GET on its status endpoint), and when gpdoc asked.
type StatusRecord struct {
	// Status, SubStatus and Reason are the service's last answer (empty
	// before the first successful poll).
	Status    string `json:"status,omitempty"`
	SubStatus string `json:"subStatus,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Checked is when that answer came (zero: never).
	Checked time.Time `json:"checked,omitzero"`
	// Polls are the times of the polls within the last PollWindow, oldest
	// first, successful or not: every request counts against the limit.
	Polls []time.Time `json:"polls,omitempty"`
}

// NextPoll returns when a message with this record may be polled again
// under the limit: now, if fewer than MaxPollsPerDay polls fall within the
// PollWindow before now, else when the oldest of them leaves the window.
func (r StatusRecord) NextPoll(now time.Time) time.Time {
	var recent []time.Time
	for _, p := range r.Polls {
		if now.Sub(p) < PollWindow {
			recent = append(recent, p)
		}
	}
	if len(recent) < MaxPollsPerDay {
		return now
	}
	return recent[len(recent)-MaxPollsPerDay].Add(PollWindow)
}

// StatusStore is implemented by ledgers that keep each message's delivery
// status and the times it was polled, so that statuses can be refreshed for
// a whole ledger within the service's polling limit (gpdoc ledger status).
// [Memory] and ledger/sqlite implement it.
type StatusStore interface {
	// Status returns the message's record: the zero record if it was never
	// polled.
	Status(ctx context.Context, messageID string) (StatusRecord, error)
	// RecordPoll records a poll of the message made at `at`, and, when st
	// is not nil, the answer (its Status, SubStatus, Reason; Checked is set
	// to at). Polls older than PollWindow are forgotten.
	RecordPoll(ctx context.Context, messageID string, at time.Time, st *StatusRecord) error
}

// recentPolls keeps the polls of ps within PollWindow before at, and at.
func recentPolls(ps []time.Time, at time.Time) []time.Time {
	out := make([]time.Time, 0, len(ps)+1)
	for _, p := range ps {
		if at.Sub(p) < PollWindow {
			out = append(out, p)
		}
	}
	return append(out, at.UTC())
}
