package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/ledgertest"
)

func TestConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledgertest.Opener {
		path := filepath.Join(t.TempDir(), "test.ledger.db")
		return func(t *testing.T) ledger.Ledger { return open(t, path, "") }
	})
}

func open(t testing.TB, path, runID string) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), path, Options{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ro.ledger.db")
	l := open(t, path, "")
	l.Claim(ctx, ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}, ledger.ClaimOptions{})
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if s, err := ro.Stats(ctx); err != nil || s[ledger.Pending] != 1 {
		t.Fatalf("read-only stats %v %v", s, err)
	}
	if _, err := ro.Claim(ctx, ledger.Item{MessageID: "m2", Line: 2, Hash: "h"}, ledger.ClaimOptions{}); err == nil {
		t.Fatal("read-only ledger took a write")
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
}

// TestSQLiteTwoHandles: two processes' worth of handles on one file; writes
// wait for each other (busy timeout) rather than fail.
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "two.ledger.db")
	var hs [2]*Ledger
	for i, id := range []string{"run-a", "run-b"} {
		l, err := Open(ctx, path, Options{RunID: id, NoLock: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		hs[i] = l
	}
	a, b := hs[0], hs[1]
	var wg sync.WaitGroup
	for _, l := range []*Ledger{a, b} {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("%s-%d", l.RunID(), i)
				if _, err := l.Claim(ctx, ledger.Item{MessageID: id, Line: i, Hash: "h"}, ledger.ClaimOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s, _ := a.Stats(ctx)
	if s[ledger.Pending] != 100 {
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
	l := open(t, path, "check")
	var integrity string
	if err := l.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q %v", integrity, err)
	}
	n := 0
	err := l.Entries(context.Background(), func(e ledger.Entry) error {
		n++
		if !e.State.Valid() {
			return fmt.Errorf("%s: bad state %q", e.MessageID, e.State)
		}
		if (e.State == ledger.Sending || e.State == ledger.Sent) && e.Attempts < 1 {
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
	l, err := Open(ctx, path, Options{})
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
				l.Claim(ctx, ledger.Item{MessageID: id, Line: i, Hash: "h"}, ledger.ClaimOptions{})
				l.MarkSending(ctx, id, "aa")
				l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent, StatusEndpoint: "https://x/" + id})
			}
		})
	}
	wg.Wait()
}

// TestRunLock: a second run on one ledger file is refused at once, naming
// the holder; read-only handles still work; the lock goes with Close.
func TestRunLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lock.ledger.db")
	a := open(t, path, "run-a")
	_, err := Open(ctx, path, Options{RunID: "run-b"})
	var le *ledger.LockedError
	if !errors.As(err, &le) || !errors.Is(err, ledger.ErrLocked) {
		t.Fatalf("second run: %v, want a *ledger.LockedError", err)
	}
	host, _ := os.Hostname()
	if le.Holder.PID != os.Getpid() || le.Holder.RunID != "run-a" || le.Holder.Host != host || le.Holder.Started.IsZero() {
		t.Fatalf("holder %+v", le.Holder)
	}
	for _, want := range []string{"run-a", strconv.Itoa(os.Getpid()), LockPath(path)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %q", err, want)
		}
	}
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open while a run holds the lock: %v", err)
	}
	if _, err := ro.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	ro.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, path, Options{RunID: "run-b"})
	if err != nil {
		t.Fatalf("open after the first run closed: %v", err)
	}
	b.Close()
}

// TestMigrateSchema1: a ledger written before payload hashes were recorded
// opens, keeps its rows and records hashes from then on.
func TestMigrateSchema1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.ledger.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE messages (message_id TEXT PRIMARY KEY, source_id TEXT NOT NULL DEFAULT '', line INTEGER NOT NULL,
			hash TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, problem TEXT,
			status_endpoint TEXT NOT NULL DEFAULT '', run_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
		`CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO ledger_meta VALUES ('schema', '1')`,
		`INSERT INTO messages VALUES ('m1', 's1', 1, 'h1', 'sending', 1, NULL, '', 'old-run', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z')`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := ro.Get(ctx, "m1"); err != nil || e.State != ledger.Sending || e.PayloadSHA256 != "" {
		t.Fatalf("read-only Get on a schema 1 file: %+v %v", e, err)
	}
	ro.Close()
	l := open(t, path, "new-run")
	d, err := l.Claim(ctx, ledger.Item{MessageID: "m1", SourceID: "s1", Line: 1, Hash: "h1"}, ledger.ClaimOptions{})
	if err != nil || !d.Resend || d.FirstClaimed.Format(time.RFC3339) != "2026-01-02T03:04:05Z" {
		t.Fatalf("claim on a migrated ledger: %+v %v", d, err)
	}
	if _, err := l.MarkSending(ctx, "m1", "aa"); err != nil {
		t.Fatal(err)
	}
	if e, err := l.Get(ctx, "m1"); err != nil || e.PayloadSHA256 != "aa" || e.Attempts != 2 {
		t.Fatalf("entry %+v %v", e, err)
	}
	var v string
	if err := l.db.QueryRow(`SELECT value FROM ledger_meta WHERE key = 'schema'`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema %q %v", v, err)
	}
}

// TestRefusesNewerSchema: a file written by a newer gpdoc (a schema this
// one does not know) is refused, not rewritten to the older version.
func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.ledger.db")
	open(t, path, "").Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE ledger_meta SET value = '99' WHERE key = 'schema'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(context.Background(), path, Options{NoLock: true}); err == nil || !strings.Contains(err.Error(), "newer gpdoc") {
		t.Fatalf("Open of a schema 99 file: %v", err)
	}
}
