package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
)

// RunListAndStatus checks the optional [ledger.Lister] and
// [ledger.StatusStore] of an implementation (each part is skipped when the
// ledger does not implement it).
func RunListAndStatus(t *testing.T, fresh func(t *testing.T) Opener) {
	t.Run("List", func(t *testing.T) { list(t, fresh(t)) })
	t.Run("Status", func(t *testing.T) { status(t, fresh(t)) })
}

func list(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	defer l.Close()
	ls, ok := l.(ledger.Lister)
	if !ok {
		t.Skip("not a Lister")
	}
	if err := ls.List(ctx, func(ledger.Entry) error { t.Fatal("an empty ledger listed an entry"); return nil }); err != nil {
		t.Fatal(err)
	}
	// Lines claimed out of order, ending in different states.
	for _, line := range []int{3, 1, 2} {
		claim(t, l, ledger.Item{MessageID: fmt.Sprint("m", line), SourceID: fmt.Sprint("s", line), Line: line, Hash: "h"}, ledger.ClaimOptions{})
	}
	if _, err := l.MarkSending(ctx, "m1", testPayload); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.Sent, StatusEndpoint: "https://x.test/m1/status"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, "m2", ledger.Outcome{State: ledger.Invalid, Problem: []byte(`{"title":"bad"}`)}); err != nil {
		t.Fatal(err)
	}
	var got []ledger.Entry
	if err := ls.List(ctx, func(e ledger.Entry) error {
		// fn may use the ledger while listing.
		if _, err := l.Get(ctx, e.MessageID); err != nil {
			return err
		}
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Line != 1 || got[1].Line != 2 || got[2].Line != 3 {
		t.Fatalf("listed %+v, want lines 1, 2, 3", got)
	}
	for _, e := range got {
		want, _ := l.Get(ctx, e.MessageID)
		if fmt.Sprint(e) != fmt.Sprint(want) {
			t.Fatalf("listed %+v, Get says %+v", e, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := ls.List(ctx, func(ledger.Entry) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List after fn's error: %v, %d calls", err, n)
	}
}

func status(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	ss, ok := l.(ledger.StatusStore)
	if !ok {
		l.Close()
		t.Skip("not a StatusStore")
	}
	claim(t, l, ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}, ledger.ClaimOptions{})
	if r, err := ss.Status(ctx, "m1"); err != nil || r.Status != "" || len(r.Polls) != 0 {
		t.Fatalf("never polled: %+v %v", r, err)
	}
	if err := ss.RecordPoll(ctx, "nope", time.Now(), nil); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("poll of an unknown message: %v", err)
	}
	day := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	// One poll the day before (forgotten), then four today; the second
	// failed (no answer).
	polls := []time.Time{day.Add(-30 * time.Hour), day, day.Add(time.Hour), day.Add(2 * time.Hour), day.Add(3 * time.Hour)}
	for i, at := range polls {
		var st *ledger.StatusRecord
		if i != 2 {
			st = &ledger.StatusRecord{Status: fmt.Sprint("S", i), SubStatus: "sub", Reason: "r"}
		}
		if err := ss.RecordPoll(ctx, "m1", at, st); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l = open(t)
	defer l.Close()
	r, err := l.(ledger.StatusStore).Status(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "S4" || r.SubStatus != "sub" || !r.Checked.Equal(polls[4]) || len(r.Polls) != 4 || !r.Polls[0].Equal(day) {
		t.Fatalf("status %+v", r)
	}
	now := day.Add(4 * time.Hour)
	if next := r.NextPoll(now); !next.Equal(day.Add(24 * time.Hour)) {
		t.Fatalf("next poll %v, want a day after the first of the four", next)
	}
	if next := r.NextPoll(day.Add(25 * time.Hour)); !next.Equal(day.Add(25 * time.Hour)) {
		t.Fatalf("next poll the day after: %v", next)
	}
}
