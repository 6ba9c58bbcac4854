package ledger

import (
	"context"
	"time"
)

// This file holds the optional capabilities of a ledger: interfaces a caller
// checks for with a type assertion, so that the [Ledger] interface every
// implementation must satisfy stays small.

// BatchClaimer is implemented by ledgers that claim many lines in one round
// trip (package ledger/postgres: one transaction per batch, so that many
// workers reading the same manifest do not contend line by line).
type BatchClaimer interface {
	// ClaimBatch claims items in order, as calling [Ledger.Claim] on each
	// would, and returns one decision per item, in the same order. A
	// messageId repeated within the batch is a [Duplicate] after its first
	// occurrence. An item without a messageId is refused before anything
	// is claimed; after any other error some items may be left claimed by
	// this run, so, as with an error of Claim, the run must stop (closing
	// the ledger releases what it holds).
	ClaimBatch(ctx context.Context, items []Item, opts ClaimOptions) ([]Decision, error)
}

// WorkerStats is one worker's (one run's) share of a ledger.
type WorkerStats struct {
	// Worker is the run id the worker claims under.
	Worker string `json:"worker"`
	// Host and PID name the process, where the ledger records them.
	Host string `json:"host,omitempty"`
	PID  int    `json:"pid,omitempty"`
	// Started and Seen are when the worker opened the ledger and when its
	// heartbeat last reached it (zero where not recorded).
	Started time.Time `json:"started,omitzero"`
	Seen    time.Time `json:"seen,omitzero"`
	// States counts the entries this worker claimed last, by state.
	States Stats `json:"states"`
	// Leased is the number of live leases it holds.
	Leased int `json:"leased"`
	// SentLastMinute and FinishedLastMinute count the messages it sent, and
	// finished in any state, in the minute before [Fleet.At].
	SentLastMinute     int `json:"sentLastMinute"`
	FinishedLastMinute int `json:"finishedLastMinute"`
}

// Fleet is the view of a ledger shared by many workers.
type Fleet struct {
	// At is the ledger's clock when the counts were taken.
	At time.Time `json:"at"`
	// Workers holds one entry per worker that claimed an entry last, or
	// that is registered, in Worker order.
	Workers []WorkerStats `json:"workers"`
	// Totals over all workers.
	Leased             int `json:"leased"`
	SentLastMinute     int `json:"sentLastMinute"`
	FinishedLastMinute int `json:"finishedLastMinute"`
}

// SendRate is the fleet's send rate over the last minute, in messages per
// second.
func (f Fleet) SendRate() float64 { return float64(f.SentLastMinute) / 60 }

// FleetStater is implemented by ledgers that count per worker and over the
// last minute ([Memory], package ledger/postgres).
type FleetStater interface {
	FleetStats(ctx context.Context) (Fleet, error)
}

// Leased reports whether prev is held, at time now, by a live lease of a
// worker other than runID: a claim by runID must leave it alone ([Busy]).
// Final entries hold no lease.
func Leased(prev *Entry, runID string, now time.Time) bool {
	return prev != nil && prev.RunID != runID && !prev.State.Final() && prev.LeaseUntil.After(now)
}

// DecideLeased is [Decide] for a ledger shared by many workers, whose claims
// are leases: a message leased by another live worker is [Busy]; one whose
// lease expired is decided as Decide says, and a claim for processing is a
// take-over ([Decision.TakeOver]), sent with the same messageId.
func DecideLeased(prev *Entry, it Item, runID string, now time.Time, opts ClaimOptions) Decision {
	if Leased(prev, runID, now) {
		return Decision{Action: Busy, Previous: prev,
			Reason: "leased by worker " + prev.RunID + " until " + prev.LeaseUntil.UTC().Format(time.RFC3339)}
	}
	d := Decide(prev, it, runID, opts)
	if d.Action == Process && prev != nil && prev.RunID != runID && !prev.LeaseUntil.IsZero() {
		d.TakeOver = true
		d.Reason = "lease of worker " + prev.RunID + " expired; " + d.Reason
	}
	return d
}
