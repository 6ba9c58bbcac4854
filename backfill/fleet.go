package backfill

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"golang.org/x/time/rate"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

// This file holds what a run does on a ledger shared by many workers
// (package ledger/postgres): claims in batches, lines leased by another
// worker (busy), leases lost, take-overs, and the metrics.

// The run-level outcomes of a shared ledger.
const (
	// OutcomeBusy: another live worker holds the line's lease, and still
	// did when this run looked again at its end (see [Config.BusyRecheck]).
	// Nothing was done with it; it is not final: the run does not exit 0,
	// and a later run picks the line up if the other worker did not finish
	// it.
	OutcomeBusy Outcome = "busy"
	// OutcomeLeaseLost: this worker's lease on the message expired (it was
	// too slow, or lost the database for longer than the lease) and another
	// worker took the message over; this run stopped working on it and
	// recorded nothing. The other worker sends it, with the same messageId
	// and bytes.
	OutcomeLeaseLost Outcome = "lease-lost"
)

// Meter is told about a run's messages, for metrics (package metrics
// implements it; give the same value as [Config.Observer] so that messages
// in flight are counted out).
type Meter interface {
	// Started counts a message entering the pipeline.
	Started()
	// Finished counts a line's outcome and the bytes the service accepted.
	Finished(outcome string, bytesSent int64)
	// TakeOver counts a message taken over from a worker whose lease
	// expired.
	TakeOver()
}

// DefaultBusyRecheck is how often a run looks again at its busy lines once
// it has read the whole manifest (Config.BusyRecheck 0).
const DefaultBusyRecheck = time.Second

// maxClaimBatch caps the lines claimed in one round trip.
const maxClaimBatch = 256

// claimBatchSize is the number of lines read ahead and claimed at once:
// Config.ClaimBatch, else the concurrency (capped) on a ledger that claims
// in batches, else 1 (one line at a time, as before read-ahead).
func (r *run) claimBatchSize(conc int) int {
	if r.cfg.Ledger == nil {
		return 1
	}
	if r.cfg.ClaimBatch > 0 {
		return min(r.cfg.ClaimBatch, maxClaimBatch)
	}
	if _, ok := r.cfg.Ledger.(ledger.BatchClaimer); ok {
		return min(conc, maxClaimBatch)
	}
	return 1
}

// claimAll claims the lines of batch that parsed (those with an error get
// a zero Decision), in one round trip where the ledger can.
func (r *run) claimAll(ctx context.Context, batch []manifest.Line) ([]ledger.Decision, error) {
	out := make([]ledger.Decision, len(batch))
	if r.cfg.Ledger == nil {
		return out, nil
	}
	opts := ledger.ClaimOptions{RetryInvalid: r.cfg.RetryInvalid}
	var items []ledger.Item
	var at []int
	for i, l := range batch {
		if l.Err != nil {
			continue
		}
		items = append(items, ledger.Item{MessageID: l.Doc.Message.MessageID, SourceID: l.Doc.SourceID, Line: l.Number, Hash: l.Hash})
		at = append(at, i)
	}
	if len(items) == 0 {
		return out, nil
	}
	r.mu.Lock()
	r.counts.ClaimCalls++
	r.mu.Unlock()
	if bc, ok := r.cfg.Ledger.(ledger.BatchClaimer); ok && len(items) > 1 {
		ds, err := bc.ClaimBatch(ctx, items, opts)
		if err != nil {
			return nil, err
		}
		if len(ds) != len(items) {
			return nil, fmt.Errorf("ledger: ClaimBatch returned %d decisions for %d lines", len(ds), len(items))
		}
		for k, d := range ds {
			out[at[k]] = d
		}
		return out, nil
	}
	for k, it := range items {
		if k > 0 {
			r.mu.Lock()
			r.counts.ClaimCalls++
			r.mu.Unlock()
		}
		d, err := r.cfg.Ledger.Claim(ctx, it, opts)
		if err != nil {
			return nil, err
		}
		out[at[k]] = d
	}
	return out, nil
}

// busyLine is a line another worker held when this run claimed it.
type busyLine struct {
	line  manifest.Line
	d     ledger.Decision
	until time.Time // the other worker's lease, as first seen
}

// docs streams the manifest, claims its lines in batches and yields the
// ones to process; lines another worker holds are looked at again at the
// end (revisit).
func (r *run) docs(intake context.Context, limiter *rate.Limiter, conc int) iter.Seq[*pipeline.Document] {
	return func(yield func(*pipeline.Document) bool) {
		defer func() {
			if intake.Err() != nil {
				r.mu.Lock()
				r.stopped = true
				r.mu.Unlock()
			}
		}()
		size := r.claimBatchSize(conc)
		batch := make([]manifest.Line, 0, size)
		var busy []busyLine
		flush := func() bool {
			if len(batch) == 0 {
				return true
			}
			ds, err := r.claimAll(intake, batch)
			if err != nil {
				if intake.Err() == nil {
					r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
				}
				return false
			}
			for i, line := range batch {
				if i > 0 && r.stopRequested() {
					r.cancel() // the rest stay claimed pending: a re-run takes them
				}
				if intake.Err() != nil {
					return false
				}
				if ds[i].Action == ledger.Busy {
					until := time.Time{}
					if ds[i].Previous != nil {
						until = ds[i].Previous.LeaseUntil
					}
					busy = append(busy, busyLine{line: line, d: ds[i], until: until})
					continue
				}
				if !r.take(intake, limiter, line, ds[i], yield) {
					return false
				}
			}
			batch = batch[:0]
			return true
		}
		for line := range r.lines(intake) {
			if r.stopRequested() {
				r.cancel()
			}
			if intake.Err() != nil {
				return
			}
			if line.Err != nil {
				var le *manifest.LineError
				if !errors.As(line.Err, &le) {
					r.fail(fmt.Errorf("backfill: %w", line.Err))
					return
				}
			}
			batch = append(batch, line)
			if len(batch) >= size && !flush() {
				return
			}
		}
		if intake.Err() != nil || !flush() {
			return
		}
		r.revisit(intake, limiter, busy, yield)
	}
}

// revisit looks again at the lines another worker held, every
// Config.BusyRecheck, until each is final (the other worker finished it:
// skipped), taken over (its lease expired: processed here) or still held by
// the same worker after the lease first seen would have expired (that
// worker is alive and renewing it: busy). A line a third worker took over
// meanwhile is waited for again, up to that worker's lease.
func (r *run) revisit(intake context.Context, limiter *rate.Limiter, busy []busyLine, yield func(*pipeline.Document) bool) {
	defer func() {
		for _, b := range busy { // given up, or the run was stopped
			r.finishBusy(b)
		}
	}()
	every := r.cfg.BusyRecheck
	if every == 0 {
		every = DefaultBusyRecheck
	}
	if every < 0 {
		return
	}
	for len(busy) > 0 {
		t := time.NewTimer(every)
		select {
		case <-intake.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if r.stopRequested() {
			r.cancel()
			return
		}
		lines := make([]manifest.Line, len(busy))
		for i, b := range busy {
			lines[i] = b.line
		}
		ds, err := r.claimAll(intake, lines)
		if err != nil {
			if intake.Err() == nil {
				r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
			}
			return
		}
		now := time.Now()
		var still []busyLine
		for i, b := range busy {
			switch {
			case ds[i].Action == ledger.Busy && holder(ds[i]) != holder(b.d):
				// Another worker took it over from the one first seen: wait
				// for that one's lease instead.
				b.d = ds[i]
				if ds[i].Previous != nil { // nil: locked by a claim under way, no lease yet
					b.until = ds[i].Previous.LeaseUntil
				}
				still = append(still, b)
			case ds[i].Action == ledger.Busy && now.After(b.until):
				b.d = ds[i]
				r.finishBusy(b) // renewed: its worker is alive
			case ds[i].Action == ledger.Busy:
				still = append(still, b)
			default:
				if intake.Err() != nil || !r.take(intake, limiter, b.line, ds[i], yield) {
					busy = append(still, busy[i+1:]...)
					return
				}
			}
		}
		busy = still
	}
}

// holder is the worker a busy decision names.
func holder(d ledger.Decision) string {
	if d.Previous == nil {
		return ""
	}
	return d.Previous.RunID
}

// finishBusy reports a line left to the worker holding it.
func (r *run) finishBusy(b busyLine) {
	res := Result{Line: b.line.Number, Outcome: OutcomeBusy, Reason: b.d.Reason, seq: r.issue()}
	if doc := b.line.Doc; doc != nil {
		res.SourceID, res.MessageID, res.Subject = doc.SourceID, doc.Message.MessageID, subjectOf(doc)
	}
	if b.d.Previous != nil {
		res.Attempts = b.d.Previous.Attempts
	}
	r.finish(res)
}

// take reports or yields one claimed line; false: stop.
func (r *run) take(intake context.Context, limiter *rate.Limiter, line manifest.Line, d ledger.Decision, yield func(*pipeline.Document) bool) bool {
	if line.Err != nil {
		var le *manifest.LineError
		errors.As(line.Err, &le)
		r.finish(Result{Line: line.Number, Outcome: OutcomeInvalid, Error: le.Err.Error(), seq: r.issue()})
		return true
	}
	doc := line.Doc
	j := &job{res: Result{Line: line.Number, SourceID: doc.SourceID, MessageID: doc.Message.MessageID,
		Subject: subjectOf(doc), seq: r.issue()}}
	if r.cfg.Ledger != nil {
		j.res.Reason = d.Reason
		if d.Previous != nil {
			j.attempts = d.Previous.Attempts
			j.res.StatusEndpoint = d.Previous.StatusEndpoint
			j.delivered = d.Previous.State.MayHaveBeenDelivered()
			j.recorded = d.Previous.PayloadSHA256
		}
		doc.ReferenceTime = d.FirstClaimed
		if d.Action != ledger.Process {
			j.res.Attempts = j.attempts
			keepProblems(&j.res, d)
			j.res.Outcome = map[ledger.Action]Outcome{ledger.Skip: OutcomeSkipped,
				ledger.Conflict: OutcomeConflict, ledger.Duplicate: OutcomeDuplicate, ledger.Busy: OutcomeBusy}[d.Action]
			r.finish(j.res)
			return true
		}
		r.mu.Lock()
		if d.Resend {
			r.counts.Resent++
		}
		if d.TakeOver {
			r.counts.TakeOvers++
		}
		r.mu.Unlock()
		if d.TakeOver && r.cfg.Meter != nil {
			r.cfg.Meter.TakeOver()
		}
		j.res.StatusEndpoint = ""
	}
	if limiter != nil {
		if err := limiter.Wait(intake); err != nil {
			return false // stopped; the claim stays pending for the next run
		}
	}
	j.start = time.Now()
	r.mu.Lock()
	r.jobs[doc] = j
	r.mu.Unlock()
	if r.cfg.Meter != nil {
		r.cfg.Meter.Started()
	}
	return yield(doc)
}

// The rate scopes of Config.RateScope.
const (
	RateScopeWorker = "worker"
	RateScopeFleet  = "fleet"
)

// FleetRateEvery is how often a run with RateScope "fleet" counts the live
// workers again.
const FleetRateEvery = 10 * time.Second

// DefaultLiveWithin is how recently a worker's heartbeat must have reached
// the ledger for [LiveWorkers] to count it, when the lease TTL is not known.
const DefaultLiveWithin = time.Minute

// LiveWorkers counts the workers of f that are alive: holding a lease, or
// heard from within the last `within` (<= 0: [DefaultLiveWithin]; give the
// lease TTL: a live worker's heartbeat comes every third of it). It is at
// least 1 (this worker).
func LiveWorkers(f ledger.Fleet, within time.Duration) int {
	if within <= 0 {
		within = DefaultLiveWithin
	}
	n := 0
	for _, w := range f.Workers {
		if w.Leased > 0 || (!w.Seen.IsZero() && f.At.Sub(w.Seen) <= within) {
			n++
		}
	}
	return max(n, 1)
}

// LeaseTTL returns the lease TTL of a ledger that has one (package
// ledger/postgres), else 0.
func LeaseTTL(l ledger.Ledger) time.Duration {
	if lt, ok := l.(interface{ LeaseTTL() time.Duration }); ok {
		return lt.LeaseTTL()
	}
	return 0
}

// fleetRate, for RateScope "fleet", sets limiter to Rate divided by the
// live workers now and every FleetRateEvery until ctx ends.
func (r *run) fleetRate(ctx context.Context, limiter *rate.Limiter) error {
	switch r.cfg.RateScope {
	case "", RateScopeWorker:
		return nil
	case RateScopeFleet:
	default:
		return fmt.Errorf("backfill: rate scope %q: want %q or %q", r.cfg.RateScope, RateScopeWorker, RateScopeFleet)
	}
	fs, ok := r.cfg.Ledger.(ledger.FleetStater)
	if !ok {
		return fmt.Errorf("backfill: a fleet-wide rate needs a ledger that counts its workers (PostgreSQL); this one does not")
	}
	set := func() {
		f, err := fs.FleetStats(ctx)
		if err != nil {
			return // keep the last share: a ledger failure shows at the next claim
		}
		limiter.SetLimit(rate.Limit(r.cfg.Rate / float64(LiveWorkers(f, LeaseTTL(r.cfg.Ledger)))))
	}
	set()
	go func() {
		t := time.NewTicker(FleetRateEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				set()
			}
		}
	}()
	return nil
}
