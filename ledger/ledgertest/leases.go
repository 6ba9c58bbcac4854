package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
)

// LeaseOptions configure one worker's handle on a ledger with leases.
type LeaseOptions struct {
	// RunID names the worker.
	RunID string
	// TTL is how long a claim lasts without renewal.
	TTL time.Duration
	// NoHeartbeat opens a handle that never renews its leases: a worker that
	// has stopped (died, or lost the database) without releasing them.
	NoHeartbeat bool
}

// LeaseOpener opens a worker's handle on the shared store under test.
type LeaseOpener func(t *testing.T, o LeaseOptions) ledger.Ledger

// RunLeases runs the tests of a ledger shared by many workers, whose claims
// are leases (see [ledger.DecideLeased]): a lease that expires is taken over
// by another worker, a heartbeat keeps a lease, the old owner of a lease
// taken over is fenced off, and workers claiming batches of the same lines at
// once never both get one line. fresh returns an opener over a new, empty
// store. The handles must be [ledger.BatchClaimer]s.
func RunLeases(t *testing.T, fresh func(t *testing.T) LeaseOpener) {
	t.Run("ExpiryTakeover", func(t *testing.T) { expiryTakeover(t, fresh(t)) })
	t.Run("HeartbeatKeeps", func(t *testing.T) { heartbeatKeeps(t, fresh(t)) })
	t.Run("ConcurrentBatches", func(t *testing.T) { concurrentBatches(t, fresh(t)) })
}

// waitClaim claims it with l until the decision is not busy (the other
// worker's lease expired), for at most a minute.
func waitClaim(t *testing.T, l ledger.Ledger, it ledger.Item) ledger.Decision {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		d := claim(t, l, it, ledger.ClaimOptions{})
		if d.Action != ledger.Busy {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still busy after a minute: %s", it.MessageID, d.Reason)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expiryTakeover: worker A claims two messages and marks one sending, then
// stops renewing. B finds them busy, then takes them over once the leases
// expire, resending the one A may have sent. A, cut off, can no longer mark
// or finish them.
func expiryTakeover(t *testing.T, open LeaseOpener) {
	ctx := context.Background()
	a := open(t, LeaseOptions{RunID: "worker-a", TTL: 2 * time.Second, NoHeartbeat: true})
	defer a.Close()
	b := open(t, LeaseOptions{RunID: "worker-b", TTL: 30 * time.Second})
	defer b.Close()
	m1 := ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}
	m2 := ledger.Item{MessageID: "m2", Line: 2, Hash: "h"}
	for _, it := range []ledger.Item{m1, m2} {
		if d := claim(t, a, it, ledger.ClaimOptions{}); d.Action != ledger.Process {
			t.Fatalf("A's claim of %s: %v", it.MessageID, d.Action)
		}
	}
	if _, err := a.MarkSending(ctx, "m1", testPayload); err != nil {
		t.Fatal(err)
	}
	if e, _ := a.Get(ctx, "m1"); e.LeaseUntil.IsZero() || e.RunID != "worker-a" {
		t.Fatalf("A's claim holds no lease: %+v", e)
	}
	// The first claim of B comes straight after A's; it can only miss the
	// lease if the machine stalls for the whole TTL.
	if d := claim(t, b, m1, ledger.ClaimOptions{}); d.Action != ledger.Busy || d.Reason == "" {
		t.Fatalf("B's claim of a live lease: %v (%s), want busy", d.Action, d.Reason)
	}
	d := waitClaim(t, b, m1)
	if d.Action != ledger.Process || !d.Resend || !d.TakeOver || d.Previous == nil || d.Previous.State != ledger.Sending {
		t.Fatalf("B's take-over of m1: %+v", d)
	}
	if d := waitClaim(t, b, m2); d.Action != ledger.Process || d.Resend || !d.TakeOver {
		t.Fatalf("B's take-over of m2 (pending): %+v", d)
	}
	// A is fenced off: it may not mark or finish what B holds now.
	if _, err := a.MarkSending(ctx, "m1", testPayload); !errors.Is(err, ledger.ErrLeaseLost) || !errors.Is(err, ledger.ErrNotClaimed) {
		t.Fatalf("A's MarkSending after the take-over: %v, want ErrLeaseLost", err)
	}
	if err := a.Finish(ctx, "m2", ledger.Outcome{State: ledger.Sent}); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("A's Finish after the take-over: %v, want ErrLeaseLost", err)
	}
	if n, err := b.MarkSending(ctx, "m1", testPayload); err != nil || n != 2 {
		t.Fatalf("B's MarkSending: %d %v, want attempt 2", n, err)
	}
	if err := b.Finish(ctx, "m1", ledger.Outcome{State: ledger.Sent}); err != nil {
		t.Fatal(err)
	}
	e := want(t, b, "m1", ledger.Sent, 2)
	if e.RunID != "worker-b" || !e.LeaseUntil.IsZero() {
		t.Fatalf("finished entry %+v: want worker-b's, without a lease", e)
	}
	// A finished message is nobody's to take: a third worker skips it.
	c := open(t, LeaseOptions{RunID: "worker-c", TTL: 30 * time.Second})
	defer c.Close()
	if d := claim(t, c, m1, ledger.ClaimOptions{}); d.Action != ledger.Skip {
		t.Fatalf("C's claim of a sent message: %v", d.Action)
	}
}

// heartbeatKeeps: a live worker keeps its lease past the TTL, and releases
// it on Close, after which another worker takes the line at once (no
// take-over: nobody died).
func heartbeatKeeps(t *testing.T, open LeaseOpener) {
	ctx := context.Background()
	const ttl = 1500 * time.Millisecond
	a := open(t, LeaseOptions{RunID: "worker-a", TTL: ttl})
	b := open(t, LeaseOptions{RunID: "worker-b", TTL: ttl})
	defer b.Close()
	it := ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}
	claim(t, a, it, ledger.ClaimOptions{})
	first := want(t, a, "m1", ledger.Pending, 0).LeaseUntil
	time.Sleep(2*ttl + ttl/3)
	if d := claim(t, b, it, ledger.ClaimOptions{}); d.Action != ledger.Busy {
		t.Fatalf("B's claim after twice the TTL of a renewed lease: %v (%s), want busy", d.Action, d.Reason)
	}
	if renewed := want(t, a, "m1", ledger.Pending, 0).LeaseUntil; !renewed.After(first) {
		t.Fatalf("lease not renewed: %v, first %v", renewed, first)
	}
	if _, err := a.MarkSending(ctx, "m1", testPayload); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	d := claim(t, b, it, ledger.ClaimOptions{})
	if d.Action != ledger.Process || !d.Resend || d.TakeOver {
		t.Fatalf("B's claim of a released line: %+v", d)
	}
}

// concurrentBatches: three live workers claim batches of the same 300 lines
// at once, in the same order and in another, and process what they get,
// until every line is sent. No line is ever given to two workers, and every
// message is sent once.
func concurrentBatches(t *testing.T, open LeaseOpener) {
	ctx := context.Background()
	const lines, batch = 300, 25
	items := make([]ledger.Item, lines)
	for i := range items {
		items[i] = ledger.Item{MessageID: fmt.Sprintf("m%03d", i), Line: i + 1, Hash: "h"}
	}
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for w := range 3 {
		l := open(t, LeaseOptions{RunID: fmt.Sprintf("worker-%d", w), TTL: 30 * time.Second})
		defer l.Close()
		bc, ok := l.(ledger.BatchClaimer)
		if !ok {
			t.Fatal("not a BatchClaimer")
		}
		order := items
		if w == 2 { // the third reads the manifest from its middle
			order = append(append([]ledger.Item{}, items[lines/2:]...), items[:lines/2]...)
		}
		wg.Go(func() {
			for pass := 0; ; pass++ {
				if pass > 200 {
					errs <- fmt.Errorf("worker-%d: lines still busy after 200 passes", w)
					return
				}
				busy := 0
				for i := 0; i < lines; i += batch {
					ds, err := bc.ClaimBatch(ctx, order[i:i+batch], ledger.ClaimOptions{})
					if err != nil {
						errs <- err
						return
					}
					for j, d := range ds {
						id := order[i+j].MessageID
						switch d.Action {
						case ledger.Busy:
							busy++
							continue
						case ledger.Process:
						default:
							continue
						}
						mu.Lock()
						prev, taken := owner[id]
						owner[id] = l.(interface{ RunID() string }).RunID()
						mu.Unlock()
						if taken {
							errs <- fmt.Errorf("%s given to %s and to worker-%d", id, prev, w)
							return
						}
						if _, err := l.MarkSending(ctx, id, testPayload); err != nil {
							errs <- err
							return
						}
						if err := l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent}); err != nil {
							errs <- err
							return
						}
					}
				}
				if busy == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(owner) != lines {
		t.Fatalf("%d lines processed, want %d", len(owner), lines)
	}
	l := open(t, LeaseOptions{RunID: "checker", TTL: time.Second})
	defer l.Close()
	s, err := l.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s[ledger.Sent] != lines || s.Total() != lines {
		t.Fatalf("stats %v, want %d sent", s, lines)
	}
	for _, it := range items {
		if e := want(t, l, it.MessageID, ledger.Sent, 1); e.RunID != owner[it.MessageID] {
			t.Fatalf("%s sent by %s, processed by %s", it.MessageID, e.RunID, owner[it.MessageID])
		}
	}
	shares := map[string]int{}
	for _, w := range owner {
		shares[w]++
	}
	t.Logf("shares: %v", shares)
}
