package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	a := open(t, path, "run-a")
	b := open(t, path, "run-b")
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
				l.MarkSending(ctx, id)
				l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent, StatusEndpoint: "https://x/" + id})
			}
		})
	}
	wg.Wait()
}
