// Package ledgertest checks a [ledger.Ledger] implementation against the
// ledger's rules: the life of an entry, the re-run rules of [ledger.Decide],
// and safety for concurrent use, plus the optional capabilities the
// implementation has ([ledger.BatchClaimer], [ledger.Lister],
// [ledger.FleetStater]). Every implementation's
// tests call [Run]; ledgers shared by many workers also call [RunLeases].
package ledgertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
)

// Opener opens the ledger under test. Every call is a new run over the same
// entries, as reopening a ledger file is.
type Opener func(t *testing.T) ledger.Ledger

// Run runs the conformance tests. fresh returns an Opener over a new, empty
// store; the ledgers it opens are closed by the tests.
func Run(t *testing.T, fresh func(t *testing.T) Opener) {
	t.Run("Lifecycle", func(t *testing.T) { lifecycle(t, fresh(t)) })
	t.Run("RetryInvalid", func(t *testing.T) { retryInvalid(t, fresh(t)) })
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, fresh(t)) })
	t.Run("BlockContent", func(t *testing.T) { blockContent(t, fresh(t)) })
	t.Run("ClaimBatch", func(t *testing.T) { claimBatch(t, fresh(t)) })
	t.Run("FleetStats", func(t *testing.T) { fleetStats(t, fresh(t)) })
	t.Run("Payload", func(t *testing.T) { payload(t, fresh(t)) })
	t.Run("ChangedInOneRun", func(t *testing.T) { changedInOneRun(t, fresh(t)) })
}

// Payload hashes (hex SHA-256) for the tests; testPayload is the one the
// tests that are not about payloads send.
const (
	testPayload = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	payloadA    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	payloadB    = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// payload: the first send records the payload hash; a resend of other bytes
// is refused and changes nothing; the first claim's time is the reference
// time of every later claim; an entry that goes back to pending (nothing
// delivered) forgets its hash.
func payload(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	it := ledger.Item{MessageID: "m1", Line: 1, Hash: "h1"}
	d := claim(t, l, it, ledger.ClaimOptions{})
	first := d.FirstClaimed
	if first.IsZero() {
		t.Fatal("a new claim has no FirstClaimed")
	}
	if _, err := l.MarkSending(ctx, "m1", payloadA); err != nil {
		t.Fatal(err)
	}
	if e := want(t, l, "m1", ledger.Sending, 1); e.PayloadSHA256 != payloadA {
		t.Fatalf("payload hash %q, want %q", e.PayloadSHA256, payloadA)
	}
	l.Close() // a crash while sending

	l = open(t)
	d = claim(t, l, it, ledger.ClaimOptions{})
	if !d.Resend || !d.FirstClaimed.Equal(first) {
		t.Fatalf("re-run claim: resend %v, FirstClaimed %v, want %v", d.Resend, d.FirstClaimed, first)
	}
	_, err := l.MarkSending(ctx, "m1", payloadB)
	var pc *ledger.PayloadConflictError
	if !errors.As(err, &pc) || !errors.Is(err, ledger.ErrPayloadConflict) || pc.Recorded != payloadA || pc.Now != payloadB {
		t.Fatalf("MarkSending with other bytes: %v", err)
	}
	if e := want(t, l, "m1", ledger.Sending, 1); e.PayloadSHA256 != payloadA {
		t.Fatalf("a refused resend changed the payload hash: %q", e.PayloadSHA256)
	}
	if n, err := l.MarkSending(ctx, "m1", payloadA); err != nil || n != 2 {
		t.Fatalf("resend of the same bytes: %d %v", n, err)
	}
	// A 401: nothing was delivered, and the next claim starts afresh.
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.FailedPermanent}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = open(t)
	defer l.Close()
	d = claim(t, l, it, ledger.ClaimOptions{})
	if d.Resend || !d.FirstClaimed.Equal(first) {
		t.Fatalf("claim after failed-permanent: %+v", d)
	}
	if e := want(t, l, "m1", ledger.Pending, 2); e.PayloadSHA256 != "" {
		t.Fatalf("pending entry kept payload hash %q", e.PayloadSHA256)
	}
	if _, err := l.MarkSending(ctx, "m1", payloadB); err != nil {
		t.Fatalf("first send after failed-permanent: %v", err)
	}
}

// changedInOneRun: two lines with one messageId in one run: the same line
// again is a duplicate, a different line a conflict, and the entry keeps
// the first line.
func changedInOneRun(t *testing.T, open Opener) {
	l := open(t)
	defer l.Close()
	it := ledger.Item{MessageID: "m1", Line: 1, Hash: "h1"}
	claim(t, l, it, ledger.ClaimOptions{})
	same, changed := it, it
	same.Line, changed.Line, changed.Hash = 2, 3, "h2"
	if d := claim(t, l, same, ledger.ClaimOptions{}); d.Action != ledger.Duplicate {
		t.Fatalf("same line again: %v (%s)", d.Action, d.Reason)
	}
	if d := claim(t, l, changed, ledger.ClaimOptions{RetryInvalid: true}); d.Action != ledger.Conflict {
		t.Fatalf("changed line under the same id: %v (%s)", d.Action, d.Reason)
	}
	if e := want(t, l, "m1", ledger.Pending, 0); e.Hash != "h1" || e.Line != 1 {
		t.Fatalf("entry %+v", e)
	}
}

func blockContent(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	b, ok := l.(ledger.ContentBlocker)
	if !ok {
		l.Close()
		t.Skip("not a ContentBlocker")
	}
	if got, err := b.BlockedContent(ctx, []string{"aa", "bb"}); err != nil || len(got) != 0 {
		t.Fatalf("BlockedContent of an empty ledger: %v %v", got, err)
	}
	if err := b.BlockContent(ctx, "m1", []string{"aa", "cc"}); err != nil {
		t.Fatal(err)
	}
	if err := b.BlockContent(ctx, "m2", []string{"aa"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b = open(t).(ledger.ContentBlocker)
	defer b.(ledger.Ledger).Close()
	got, err := b.BlockedContent(ctx, []string{"aa", "bb", "cc"})
	if err != nil || len(got) != 2 || got[0] != "aa" || got[1] != "cc" {
		t.Fatalf("BlockedContent = %v %v, want [aa cc]", got, err)
	}
}

func claim(t *testing.T, l ledger.Ledger, it ledger.Item, opts ledger.ClaimOptions) ledger.Decision {
	t.Helper()
	d, err := l.Claim(context.Background(), it, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func want(t *testing.T, l ledger.Ledger, id string, s ledger.State, attempts int) ledger.Entry {
	t.Helper()
	e, err := l.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != s || e.Attempts != attempts {
		t.Fatalf("%s: state %s attempts %d, want %s attempts %d", id, e.State, e.Attempts, s, attempts)
	}
	return e
}

func lifecycle(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	it := ledger.Item{MessageID: "m1", SourceID: "s1", Line: 1, Hash: "h1"}
	if d := claim(t, l, it, ledger.ClaimOptions{}); d.Action != ledger.Process || d.Previous != nil {
		t.Fatalf("first claim: %+v", d)
	}
	want(t, l, "m1", ledger.Pending, 0)
	if n, err := l.MarkSending(ctx, "m1", payloadA); err != nil || n != 1 {
		t.Fatalf("MarkSending = %d, %v", n, err)
	}
	want(t, l, "m1", ledger.Sending, 1)
	problem := json.RawMessage(`{"status":500,"title":"Internal Server Error"}`)
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.FailedRetryable, Problem: problem}); err != nil {
		t.Fatal(err)
	}
	e := want(t, l, "m1", ledger.FailedRetryable, 1)
	if string(e.Problem) != string(problem) || e.SourceID != "s1" || e.Line != 1 {
		t.Fatalf("entry %+v", e)
	}
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: "lost"}); err == nil {
		t.Fatal("Finish with an unknown state succeeded")
	}
	l.Close()

	// The next run sends again with the same messageId, and succeeds.
	l = open(t)
	d := claim(t, l, it, ledger.ClaimOptions{})
	if d.Action != ledger.Process || !d.Resend || d.Previous == nil || d.Previous.State != ledger.FailedRetryable {
		t.Fatalf("re-run claim: %+v", d)
	}
	want(t, l, "m1", ledger.FailedRetryable, 1) // kept until MarkSending
	if n, _ := l.MarkSending(ctx, "m1", payloadA); n != 2 {
		t.Fatalf("attempts = %d, want 2", n)
	}
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.Sent, StatusEndpoint: "https://x/status/m1"}); err != nil {
		t.Fatal(err)
	}
	e = want(t, l, "m1", ledger.Sent, 2)
	if e.StatusEndpoint != "https://x/status/m1" || len(e.Problem) != 0 {
		t.Fatalf("entry %+v", e)
	}
	// Sent stays sent.
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.FailedRetryable}); err != nil {
		t.Fatal(err)
	}
	want(t, l, "m1", ledger.Sent, 2)
	// The same line again in this run is a duplicate.
	if d := claim(t, l, it, ledger.ClaimOptions{}); d.Action != ledger.Duplicate {
		t.Fatalf("duplicate claim: %v", d.Action)
	}
	l.Close()

	l = open(t)
	defer l.Close()
	if d := claim(t, l, it, ledger.ClaimOptions{RetryInvalid: true}); d.Action != ledger.Skip {
		t.Fatalf("sent re-run: %v", d.Action)
	}
	changed := it
	changed.Hash = "h2"
	if d := claim(t, l, changed, ledger.ClaimOptions{RetryInvalid: true}); d.Action != ledger.Conflict {
		t.Fatalf("changed sent line: %v", d.Action)
	}
	if e := want(t, l, "m1", ledger.Sent, 2); e.Hash != "h1" {
		t.Fatalf("a conflict changed the entry: %+v", e)
	}
	if _, err := l.MarkSending(ctx, "m1", payloadA); !errors.Is(err, ledger.ErrNotClaimed) {
		t.Fatalf("MarkSending unclaimed: %v", err)
	}
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.Invalid}); !errors.Is(err, ledger.ErrNotClaimed) {
		t.Fatalf("Finish unclaimed: %v", err)
	}
	if _, err := l.Get(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if _, err := l.Claim(ctx, ledger.Item{}, ledger.ClaimOptions{}); err == nil {
		t.Fatal("claim without a messageId succeeded")
	}
}

func retryInvalid(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	it := ledger.Item{MessageID: "m1", Line: 1, Hash: "h1"}
	claim(t, l, it, ledger.ClaimOptions{})
	if err := l.Finish(ctx, "m1", ledger.Outcome{State: ledger.Invalid, Problem: json.RawMessage(`{"status":400}`)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	runs := []struct {
		hash   string
		opts   ledger.ClaimOptions
		action ledger.Action
	}{
		{"h1", ledger.ClaimOptions{}, ledger.Skip},
		{"h1", ledger.ClaimOptions{RetryInvalid: true}, ledger.Skip},
		{"h2", ledger.ClaimOptions{}, ledger.Skip},
		{"h2", ledger.ClaimOptions{RetryInvalid: true}, ledger.Process},
	}
	for i, r := range runs {
		l := open(t)
		it := it
		it.Hash = r.hash
		if d := claim(t, l, it, r.opts); d.Action != r.action {
			t.Fatalf("run %d: %v, want %v (%s)", i, d.Action, r.action, d.Reason)
		}
		l.Close()
	}
	l = open(t)
	defer l.Close()
	if e := want(t, l, "m1", ledger.Pending, 0); e.Hash != "h2" {
		t.Fatalf("hash not updated: %+v", e)
	}
}

func concurrent(t *testing.T, open Opener) {
	ctx := context.Background()
	l := open(t)
	defer l.Close()
	const workers, per = 8, 30
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				id := fmt.Sprintf("m-%d-%d", w, i)
				if _, err := l.Claim(ctx, ledger.Item{MessageID: id, Line: i + 1, Hash: "h"}, ledger.ClaimOptions{}); err != nil {
					errs <- err
					return
				}
				if _, err := l.MarkSending(ctx, id, payloadA); err != nil {
					errs <- err
					return
				}
				if err := l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := l.Stats(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := l.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s[ledger.Sent] != workers*per || s.Total() != workers*per {
		t.Fatalf("stats %v", s)
	}
}
