package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	const run = "run-2"
	item := Item{MessageID: "m1", Line: 3, Hash: "h1"}
	prev := func(s State, hash, runID string) *Entry {
		return &Entry{MessageID: "m1", Line: 3, Hash: hash, State: s, RunID: runID}
	}
	retry := ClaimOptions{RetryInvalid: true}
	tests := []struct {
		name   string
		prev   *Entry
		opts   ClaimOptions
		action Action
		resend bool
	}{
		{"new", nil, ClaimOptions{}, Process, false},
		{"pending", prev(Pending, "h1", "run-1"), ClaimOptions{}, Process, false},
		{"pending changed", prev(Pending, "h0", "run-1"), ClaimOptions{}, Process, false},
		{"sending left by a crash", prev(Sending, "h1", "run-1"), ClaimOptions{}, Process, true},
		{"sending changed", prev(Sending, "h0", "run-1"), retry, Conflict, false},
		{"sent", prev(Sent, "h1", "run-1"), ClaimOptions{}, Skip, false},
		{"sent retry-invalid", prev(Sent, "h1", "run-1"), retry, Skip, false},
		{"sent changed", prev(Sent, "h0", "run-1"), retry, Conflict, false},
		{"invalid", prev(Invalid, "h1", "run-1"), ClaimOptions{}, Skip, false},
		{"invalid retry-invalid unchanged", prev(Invalid, "h1", "run-1"), retry, Skip, false},
		{"invalid changed no flag", prev(Invalid, "h0", "run-1"), ClaimOptions{}, Skip, false},
		{"invalid changed retry-invalid", prev(Invalid, "h0", "run-1"), retry, Process, false},
		{"rejected", prev(RejectedContent, "h1", "run-1"), retry, Skip, false},
		{"rejected changed retry-invalid", prev(RejectedContent, "h0", "run-1"), retry, Process, false},
		{"failed-retryable", prev(FailedRetryable, "h1", "run-1"), ClaimOptions{}, Process, true},
		{"failed-retryable changed", prev(FailedRetryable, "h0", "run-1"), ClaimOptions{}, Conflict, false},
		{"failed-permanent", prev(FailedPermanent, "h1", "run-1"), ClaimOptions{}, Process, false},
		{"failed-permanent changed", prev(FailedPermanent, "h0", "run-1"), ClaimOptions{}, Process, false},
		{"duplicate in this run", prev(Pending, "h1", run), ClaimOptions{}, Duplicate, false},
		{"duplicate in this run, sent", prev(Sent, "h1", run), ClaimOptions{}, Duplicate, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(tt.prev, item, run, tt.opts)
			if d.Action != tt.action || d.Resend != tt.resend {
				t.Fatalf("Decide = %v resend=%v (%s), want %v resend=%v", d.Action, d.Resend, d.Reason, tt.action, tt.resend)
			}
			if tt.prev != nil && d.Reason == "" {
				t.Error("no reason given")
			}
		})
	}
}

func openTemp(t testing.TB, runID string) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.ledger.db")
	l, err := OpenSQLite(context.Background(), path, SQLiteOptions{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func reopen(t testing.TB, path, runID string) *SQLite {
	t.Helper()
	l, err := OpenSQLite(context.Background(), path, SQLiteOptions{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustClaim(t testing.TB, l Ledger, it Item, opts ClaimOptions) Decision {
	t.Helper()
	d, err := l.Claim(context.Background(), it, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func wantState(t testing.TB, l Ledger, id string, s State, attempts int) Entry {
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

func TestSQLiteLifecycle(t *testing.T) {
	ctx := context.Background()
	l, path := openTemp(t, "run-1")
	it := Item{MessageID: "m1", SourceID: "s1", Line: 1, Hash: "h1"}
	if d := mustClaim(t, l, it, ClaimOptions{}); d.Action != Process || d.Previous != nil {
		t.Fatalf("first claim: %+v", d)
	}
	wantState(t, l, "m1", Pending, 0)
	if n, err := l.MarkSending(ctx, "m1"); err != nil || n != 1 {
		t.Fatalf("MarkSending = %d, %v", n, err)
	}
	wantState(t, l, "m1", Sending, 1)
	problem := json.RawMessage(`{"status":500,"title":"Internal Server Error"}`)
	if err := l.Finish(ctx, "m1", Outcome{State: FailedRetryable, Problem: problem}); err != nil {
		t.Fatal(err)
	}
	e := wantState(t, l, "m1", FailedRetryable, 1)
	if string(e.Problem) != string(problem) || e.SourceID != "s1" || e.RunID != "run-1" {
		t.Fatalf("entry %+v", e)
	}
	l.Close()

	// A second run retries with the same messageId and succeeds.
	l2 := reopen(t, path, "run-2")
	d := mustClaim(t, l2, it, ClaimOptions{})
	if d.Action != Process || !d.Resend || d.Previous.State != FailedRetryable {
		t.Fatalf("re-run claim: %+v", d)
	}
	if n, _ := l2.MarkSending(ctx, "m1"); n != 2 {
		t.Fatalf("attempts = %d, want 2", n)
	}
	if err := l2.Finish(ctx, "m1", Outcome{State: Sent, StatusEndpoint: "https://x/status/m1"}); err != nil {
		t.Fatal(err)
	}
	e = wantState(t, l2, "m1", Sent, 2)
	if e.StatusEndpoint != "https://x/status/m1" || len(e.Problem) != 0 {
		t.Fatalf("entry %+v", e)
	}
	// Sent stays sent, and the same line again in this run is a duplicate.
	if d := mustClaim(t, l2, it, ClaimOptions{}); d.Action != Duplicate {
		t.Fatalf("duplicate claim: %v", d.Action)
	}
	l2.Close()

	l3 := reopen(t, path, "run-3")
	if d := mustClaim(t, l3, it, ClaimOptions{RetryInvalid: true}); d.Action != Skip {
		t.Fatalf("sent re-run: %v", d.Action)
	}
	changed := it
	changed.Hash = "h2"
	if d := mustClaim(t, l3, changed, ClaimOptions{RetryInvalid: true}); d.Action != Conflict {
		t.Fatalf("changed sent line: %v", d.Action)
	}
	// A conflict leaves the entry alone.
	if e := wantState(t, l3, "m1", Sent, 2); e.Hash != "h1" || e.RunID != "run-2" {
		t.Fatalf("conflict changed the entry: %+v", e)
	}
	if _, err := l3.MarkSending(ctx, "m1"); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("MarkSending unclaimed: %v", err)
	}
	if err := l3.Finish(ctx, "m1", Outcome{State: Invalid}); !errors.Is(err, ErrNotClaimed) {
		t.Fatalf("Finish unclaimed: %v", err)
	}
	if _, err := l3.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
}

func TestSQLiteRetryInvalid(t *testing.T) {
	ctx := context.Background()
	l, path := openTemp(t, "run-1")
	it := Item{MessageID: "m1", Line: 1, Hash: "h1"}
	mustClaim(t, l, it, ClaimOptions{})
	if err := l.Finish(ctx, "m1", Outcome{State: Invalid, Problem: json.RawMessage(`{"status":400}`)}); err != nil {
		t.Fatal(err)
	}
	l.Close()

	tests := []struct {
		run    string
		hash   string
		opts   ClaimOptions
		action Action
	}{
		{"run-2", "h1", ClaimOptions{}, Skip},
		{"run-3", "h1", ClaimOptions{RetryInvalid: true}, Skip},
		{"run-4", "h2", ClaimOptions{}, Skip},
		{"run-5", "h2", ClaimOptions{RetryInvalid: true}, Process},
	}
	for _, tt := range tests {
		l := reopen(t, path, tt.run)
		it := it
		it.Hash = tt.hash
		if d := mustClaim(t, l, it, tt.opts); d.Action != tt.action {
			t.Fatalf("%s: %v, want %v (%s)", tt.run, d.Action, tt.action, d.Reason)
		}
		l.Close()
	}
	l = reopen(t, path, "run-6")
	e := wantState(t, l, "m1", Pending, 0)
	if e.Hash != "h2" {
		t.Fatalf("hash not updated: %+v", e)
	}
}

// TestSQLiteConcurrent claims, marks and finishes from many goroutines at
// once (run with -race).
func TestSQLiteConcurrent(t *testing.T) {
	ctx := context.Background()
	l, _ := openTemp(t, "run-1")
	const workers, per = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				id := fmt.Sprintf("m-%d-%d", w, i)
				if _, err := l.Claim(ctx, Item{MessageID: id, Line: i + 1, Hash: "h"}, ClaimOptions{}); err != nil {
					errs <- err
					return
				}
				if _, err := l.MarkSending(ctx, id); err != nil {
					errs <- err
					return
				}
				if err := l.Finish(ctx, id, Outcome{State: Sent}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// A reader in parallel.
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
	if s[Sent] != workers*per || s.Total() != workers*per {
		t.Fatalf("stats %v", s)
	}
}

// TestSQLiteTwoHandles: two processes' worth of handles on one file; writes
// wait for each other (busy timeout) rather than fail.
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	a, path := openTemp(t, "run-a")
	b := reopen(t, path, "run-b")
	var wg sync.WaitGroup
	for _, l := range []*SQLite{a, b} {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("%s-%d", l.RunID(), i)
				if _, err := l.Claim(ctx, Item{MessageID: id, Line: i, Hash: "h"}, ClaimOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s, _ := a.Stats(ctx)
	if s[Pending] != 100 {
		t.Fatalf("stats %v", s)
	}
}

const crashEnv = "GPDOC_LEDGER_CRASH_CHILD"

// TestSQLiteCrash kills a process in the middle of ledger writes with
// SIGKILL, many times, and checks that the file is intact and every entry is
// in a state a re-run resolves.
func TestSQLiteCrash(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.ledger.db")
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteCrash$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, "GPDOC_ROUND="+strconv.Itoa(round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait until the child has started writing, then kill it mid-way.
		buf := make([]byte, 1)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+round*15) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	l := reopen(t, path, "check")
	var integrity string
	if err := l.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	n := 0
	err := l.Entries(context.Background(), func(e Entry) error {
		n++
		if !e.State.Valid() {
			return fmt.Errorf("%s: bad state %q", e.MessageID, e.State)
		}
		if (e.State == Sending || e.State == Sent) && e.Attempts < 1 {
			return fmt.Errorf("%s: %s with %d attempts", e.MessageID, e.State, e.Attempts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the children wrote nothing")
	}
}

func crashChild(path string) {
	ctx := context.Background()
	l, err := OpenSQLite(ctx, path, SQLiteOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Stdout.Write([]byte("."))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("m-%s-%d-%d", os.Getenv("GPDOC_ROUND"), w, i)
				l.Claim(ctx, Item{MessageID: id, Line: i, Hash: "h"}, ClaimOptions{})
				l.MarkSending(ctx, id)
				l.Finish(ctx, id, Outcome{State: Sent, StatusEndpoint: "https://x/" + id})
			}
		})
	}
	wg.Wait()
}
