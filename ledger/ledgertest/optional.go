package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
)

// claimBatch checks that a batch decides as claims one by one would.
func claimBatch(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	b, ok := l.(ledger.BatchClaimer)
	if !ok {
		l.Close()
		t.Skip("not a BatchClaimer")
	}
	// An earlier run leaves m1 sent, m2 invalid, m3 failed-retryable.
	for i, s := range []ledger.State{ledger.Sent, ledger.Invalid, ledger.FailedRetryable} {
		id := fmt.Sprintf("m%d", i+1)
		claim(t, l, ledger.Item{MessageID: id, Line: i + 1, Hash: "h"}, ledger.ClaimOptions{})
		if s != ledger.Invalid {
			if _, err := l.MarkSending(ctx, id, testPayload); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Finish(ctx, id, ledger.Outcome{State: s}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	l = open(t)
	defer l.Close()
	b = l.(ledger.BatchClaimer)
	items := []ledger.Item{
		{MessageID: "m1", Line: 1, Hash: "h"},                 // sent: skip
		{MessageID: "m2", Line: 2, Hash: "h2"},                // invalid, changed: process (retry invalid)
		{MessageID: "m3", Line: 3, Hash: "h"},                 // failed-retryable: resend
		{MessageID: "m4", Line: 4, Hash: "h"},                 // new
		{MessageID: "m4", Line: 5, Hash: "h"},                 // repeated: duplicate
		{MessageID: "m1", Line: 6, Hash: "changed"},           // sent, changed: conflict
		{MessageID: "m5", Line: 7, Hash: "h", SourceID: "s5"}, // new
	}
	want := []struct {
		action ledger.Action
		resend bool
	}{{ledger.Skip, false}, {ledger.Process, false}, {ledger.Process, true}, {ledger.Process, false},
		{ledger.Duplicate, false}, {ledger.Conflict, false}, {ledger.Process, false}}
	ds, err := b.ClaimBatch(ctx, items, ledger.ClaimOptions{RetryInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != len(items) {
		t.Fatalf("%d decisions for %d items", len(ds), len(items))
	}
	for i, d := range ds {
		if d.Action != want[i].action || d.Resend != want[i].resend {
			t.Errorf("item %d (%s line %d): %v resend=%v (%s), want %v resend=%v", i, items[i].MessageID, items[i].Line,
				d.Action, d.Resend, d.Reason, want[i].action, want[i].resend)
		}
	}
	e := want1(t, l, "m2", ledger.Pending, 0)
	if e.Hash != "h2" {
		t.Errorf("m2 hash %q, want h2", e.Hash)
	}
	want1(t, l, "m3", ledger.FailedRetryable, 1)
	if e := want1(t, l, "m4", ledger.Pending, 0); e.Line != 4 {
		t.Errorf("m4 line %d, want 4 (the first occurrence)", e.Line)
	}
	if e := want1(t, l, "m5", ledger.Pending, 0); e.SourceID != "s5" || e.Line != 7 {
		t.Errorf("m5 entry %+v", e)
	}
	if e := want1(t, l, "m1", ledger.Sent, 1); e.Hash != "h" {
		t.Errorf("a conflict changed m1: %+v", e)
	}
	// Every claimed message can be marked and finished by this run.
	for _, id := range []string{"m2", "m3", "m4", "m5"} {
		if _, err := l.MarkSending(ctx, id, testPayload); err != nil {
			t.Fatal(err)
		}
	}
	if ds, err := b.ClaimBatch(ctx, nil, ledger.ClaimOptions{}); err != nil || len(ds) != 0 {
		t.Errorf("empty batch: %v %v", ds, err)
	}
	if _, err := b.ClaimBatch(ctx, []ledger.Item{{MessageID: "m9", Hash: "h"}, {}}, ledger.ClaimOptions{}); err == nil {
		t.Error("a batch with an item without a messageId succeeded")
	}
	if _, err := l.Get(ctx, "m9"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a refused batch claimed m9: %v", err)
	}
}

// want1 is want without the testing.T helper depth games: the entry must be
// in state s with attempts.
func want1(t *testing.T, l ledger.Ledger, id string, s ledger.State, attempts int) ledger.Entry {
	t.Helper()
	e, err := l.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != s || e.Attempts != attempts {
		t.Errorf("%s: state %s attempts %d, want %s attempts %d", id, e.State, e.Attempts, s, attempts)
	}
	return e
}

func fleetStats(t *testing.T, open Opener) {
	ctx := context.Background()
	a := open(t)
	defer a.Close()
	fs, ok := a.(ledger.FleetStater)
	if !ok {
		t.Skip("not a FleetStater")
	}
	b := open(t)
	defer b.Close()
	run := func(l ledger.Ledger, prefix string, sent, failed, pending int) {
		t.Helper()
		for i := range sent + failed + pending {
			id := fmt.Sprintf("%s-%d", prefix, i)
			claim(t, l, ledger.Item{MessageID: id, Line: i + 1, Hash: "h"}, ledger.ClaimOptions{})
			if i >= sent+failed {
				continue
			}
			if _, err := l.MarkSending(ctx, id, testPayload); err != nil {
				t.Fatal(err)
			}
			s := ledger.Sent
			if i >= sent {
				s = ledger.FailedRetryable
			}
			if err := l.Finish(ctx, id, ledger.Outcome{State: s}); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(a, "a", 3, 1, 2)
	run(b, "b", 5, 0, 1)
	f, err := fs.FleetStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.SentLastMinute != 8 || f.FinishedLastMinute != 9 || f.At.IsZero() {
		t.Fatalf("fleet: sent %d finished %d in the last minute at %v, want 8 and 9", f.SentLastMinute, f.FinishedLastMinute, f.At)
	}
	if f.SendRate() <= 0 {
		t.Fatalf("send rate %v", f.SendRate())
	}
	counts := map[int]bool{}
	for _, w := range f.Workers {
		if w.States.Total() == 0 {
			continue // a registered worker without entries
		}
		counts[w.States[ledger.Sent]*100+w.States[ledger.FailedRetryable]*10+w.States[ledger.Pending]] = true
		if w.SentLastMinute != w.States[ledger.Sent] {
			t.Errorf("worker %s: %d sent in the last minute, %d sent", w.Worker, w.SentLastMinute, w.States[ledger.Sent])
		}
	}
	if len(counts) != 2 || !counts[312] || !counts[501] {
		t.Fatalf("per-worker counts %+v", f.Workers)
	}
}
