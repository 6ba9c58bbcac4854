package backfill

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
)

// sharedLedger is a Memory ledger that plays a ledger shared with another
// worker: chosen lines (by sourceId) are leased to it for a number of claims,
// then taken over, found finished by it, or still held; MarkSending or Finish
// of chosen lines fail with ErrLeaseLost.
type sharedLedger struct {
	*ledger.Memory
	lease time.Duration // the other worker's lease, from each busy claim

	mu         sync.Mutex
	busy       map[string]int  // sourceId -> claims still answered busy (< 0: always)
	finished   map[string]bool // sourceId -> the other worker sent it when its lease ended
	lostMark   map[string]bool // sourceId -> MarkSending loses the lease
	lostFinish map[string]bool // sourceId -> Finish loses the lease
	third      map[string]bool // sourceId -> the last busy claim names a third worker
	src        map[string]string
	claims     int // Claim calls
	batches    int // ClaimBatch calls
}

func newShared() *sharedLedger {
	return &sharedLedger{Memory: ledger.NewMemory(), lease: 30 * time.Millisecond, busy: map[string]int{},
		finished: map[string]bool{}, lostMark: map[string]bool{}, lostFinish: map[string]bool{}, third: map[string]bool{}, src: map[string]string{}}
}

// claim decides one item; l.mu is held. A line the other worker holds is
// not claimed at all, as on a shared ledger.
func (l *sharedLedger) claim(ctx context.Context, it ledger.Item, opts ledger.ClaimOptions) (ledger.Decision, error) {
	l.src[it.MessageID] = it.SourceID
	n, held := l.busy[it.SourceID]
	switch {
	case held && n != 0:
		l.busy[it.SourceID] = n - 1
		who := "other"
		if n == 1 && l.third[it.SourceID] {
			who = "third"
		}
		return ledger.Decision{Action: ledger.Busy, Reason: "leased by worker " + who,
			Previous: &ledger.Entry{MessageID: it.MessageID, RunID: who, State: ledger.Pending, LeaseUntil: time.Now().Add(l.lease)}}, nil
	case held && l.finished[it.SourceID]:
		return ledger.Decision{Action: ledger.Skip, Reason: "already sent",
			Previous: &ledger.Entry{MessageID: it.MessageID, RunID: "other", State: ledger.Sent}}, nil
	}
	d, err := l.Memory.Claim(ctx, it, opts)
	if err == nil && held && d.Action == ledger.Process {
		d.TakeOver, d.Reason = true, "lease of worker other expired; "+d.Reason
	}
	return d, err
}

func (l *sharedLedger) Claim(ctx context.Context, it ledger.Item, opts ledger.ClaimOptions) (ledger.Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.claims++
	return l.claim(ctx, it, opts)
}

func (l *sharedLedger) ClaimBatch(ctx context.Context, items []ledger.Item, opts ledger.ClaimOptions) ([]ledger.Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches++
	ds := make([]ledger.Decision, len(items))
	for i, it := range items {
		d, err := l.claim(ctx, it, opts)
		if err != nil {
			return nil, err
		}
		ds[i] = d
	}
	return ds, nil
}

func (l *sharedLedger) lost(id string, which map[string]bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if which[l.src[id]] {
		return fmt.Errorf("ledger: %s: %w (%w)", id, ledger.ErrLeaseLost, ledger.ErrNotClaimed)
	}
	return nil
}

func (l *sharedLedger) MarkSending(ctx context.Context, id, sum string) (int, error) {
	if err := l.lost(id, l.lostMark); err != nil {
		return 0, err
	}
	return l.Memory.MarkSending(ctx, id, sum)
}

func (l *sharedLedger) Finish(ctx context.Context, id string, o ledger.Outcome) error {
	if err := l.lost(id, l.lostFinish); err != nil {
		return err
	}
	return l.Memory.Finish(ctx, id, o)
}

// lineByLine hides ClaimBatch: a ledger that claims one line at a time.
type lineByLine struct{ ledger.Ledger }

// countingMeter is a Meter that counts.
type countingMeter struct {
	mu                 sync.Mutex
	started, takeovers int
	finished           map[string]int
	bytes              int64
}

func (m *countingMeter) Started()  { m.mu.Lock(); m.started++; m.mu.Unlock() }
func (m *countingMeter) TakeOver() { m.mu.Lock(); m.takeovers++; m.mu.Unlock() }
func (m *countingMeter) Finished(o string, b int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.finished == nil {
		m.finished = map[string]int{}
	}
	m.finished[o]++
	m.bytes += b
}

// TestSharedLedger: what a run does with lines another worker holds, and
// with leases it loses.
func TestSharedLedger(t *testing.T) {
	tests := []struct {
		name  string
		setUp func(l *sharedLedger)
		// want is the outcome of src-1; the other lines are sent.
		want      Outcome
		sentSrc1  int // times the service got src-1
		ok        bool
		takeovers int64
	}{
		{"busy, then taken over when the lease expired", func(l *sharedLedger) { l.busy["src-1"] = 1 },
			OutcomeSent, 1, true, 1},
		{"busy, then finished by the other worker", func(l *sharedLedger) { l.busy["src-1"] = 1; l.finished["src-1"] = true },
			OutcomeSkipped, 0, true, 0},
		{"busy, taken over by a third worker, then finished by it", func(l *sharedLedger) {
			l.busy["src-1"], l.third["src-1"], l.finished["src-1"], l.lease = 2, true, true, time.Millisecond
		}, OutcomeSkipped, 0, true, 0},
		{"busy, and the other worker renews its lease", func(l *sharedLedger) { l.busy["src-1"] = -1 },
			OutcomeBusy, 0, false, 0},
		{"lease lost before the send", func(l *sharedLedger) { l.lostMark["src-1"] = true },
			OutcomeLeaseLost, 0, false, 0},
		{"lease lost after the send", func(l *sharedLedger) { l.lostFinish["src-1"] = true },
			OutcomeLeaseLost, 1, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newShared()
			tt.setUp(l)
			fake := newFake()
			m := &countingMeter{}
			const n = 5
			s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(n)), Pipeline: testPipeline(fake),
				Ledger: l, Concurrency: 2, BusyRecheck: 10 * time.Millisecond, Meter: m, MaxConsecutiveFailures: -1})
			if err != nil {
				t.Fatalf("Run: %v (a shared ledger's answers are per message, not run failures)", err)
			}
			got := Outcome("")
			for o, c := range s.ByOutcome {
				if o != OutcomeSent && c > 0 {
					got = o
				}
			}
			if got == "" {
				got = OutcomeSent
			}
			if got != tt.want || s.Done != n || s.Sent < n-1 {
				t.Errorf("outcomes %v, want src-1 %s and the rest sent", s.ByOutcome, tt.want)
			}
			id := ""
			for k, v := range l.src {
				if v == "src-1" {
					id = k
				}
			}
			if c := fake.count(id); c != tt.sentSrc1 {
				t.Errorf("the service got src-1 %d times, want %d", c, tt.sentSrc1)
			}
			if s.OK() != tt.ok {
				t.Errorf("OK() = %v, want %v (%+v)", s.OK(), tt.ok, s.Counts)
			}
			if s.TakeOvers != tt.takeovers || int64(m.takeovers) != tt.takeovers {
				t.Errorf("take-overs: summary %d, meter %d, want %d", s.TakeOvers, m.takeovers, tt.takeovers)
			}
			total := 0
			for _, c := range m.finished {
				total += c
			}
			if total != n || m.finished[string(tt.want)] == 0 {
				t.Errorf("meter finished %v, want %d lines with %s among them", m.finished, n, tt.want)
			}
		})
	}
}

// TestClaimBatches: on a BatchClaimer the run claims ClaimBatch lines per
// round trip; on another ledger, line by line.
func TestClaimBatches(t *testing.T) {
	const n = 100
	tests := []struct {
		name            string
		batch, conc     int
		lineByLine      bool
		batches, claims int
	}{
		{"batch of the concurrency", 0, 10, false, 10, 0},
		{"explicit batch", 25, 4, false, 4, 0},
		{"ledger without batches", 0, 10, true, 0, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newShared()
			var led ledger.Ledger = l
			if tt.lineByLine {
				led = lineByLine{l}
			}
			fake := newFake()
			s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(n)), Pipeline: testPipeline(fake),
				Ledger: led, Concurrency: tt.conc, ClaimBatch: tt.batch})
			if err != nil {
				t.Fatal(err)
			}
			if s.Sent != n || !s.OK() {
				t.Fatalf("sent %d of %d: %+v", s.Sent, n, s.Counts)
			}
			if l.batches != tt.batches || l.claims != tt.claims || s.ClaimCalls != int64(tt.batches+tt.claims) {
				t.Errorf("ClaimBatch %d times, Claim %d times, ClaimCalls %d; want %d, %d", l.batches, l.claims, s.ClaimCalls, tt.batches, tt.claims)
			}
		})
	}
}

// TestFleetRate: a fleet-wide rate needs a ledger that counts its workers,
// and LiveWorkers counts those heard from lately or holding leases.
func TestFleetRate(t *testing.T) {
	_, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)), Pipeline: testPipeline(newFake()),
		Ledger: lineByLine{ledger.NewMemory()}, Rate: 10, RateScope: RateScopeFleet})
	if err == nil || !strings.Contains(err.Error(), "fleet-wide rate") {
		t.Errorf("fleet rate on a ledger without FleetStats: %v, want an error", err)
	}
	now := time.Now()
	f := ledger.Fleet{At: now, Workers: []ledger.WorkerStats{
		{Worker: "a", Seen: now.Add(-time.Second)},
		{Worker: "b", Seen: now.Add(-time.Hour), Leased: 3},
		{Worker: "c", Seen: now.Add(-time.Hour)},
		{Worker: "d"},
	}}
	if got := LiveWorkers(f, 0); got != 2 {
		t.Errorf("LiveWorkers = %d, want 2", got)
	}
	if got := LiveWorkers(f, 500*time.Millisecond); got != 1 {
		t.Errorf("LiveWorkers within 0.5s = %d, want 1 (b holds leases)", got)
	}
	if got := LiveWorkers(ledger.Fleet{}, 0); got != 1 {
		t.Errorf("LiveWorkers of none = %d, want 1 (this worker)", got)
	}
}
