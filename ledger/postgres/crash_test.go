package postgres

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
)

const crashEnv = "GPDOC_PG_CRASH_SCHEMA"

func crashItems() []ledger.Item {
	items := make([]ledger.Item, 40)
	for i := range items {
		items[i] = ledger.Item{MessageID: fmt.Sprintf("m%02d", i), Line: i + 1, Hash: "h"}
	}
	return items
}

// TestCrashTakeover: a worker process claims 40 lines, sends 10, is
// sending 10 more when it is killed with SIGKILL. Another worker takes the
// 30 unfinished lines over once the leases expire: it resends the 10 that
// were sending, processes the 20 pending, and skips the 10 sent.
func TestCrashTakeover(t *testing.T) {
	if schema := os.Getenv(crashEnv); schema != "" {
		crashChild(schema)
		return
	}
	dsn := pgtest.DSN(t)
	schema := pgtest.Schema(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashTakeover$")
	cmd.Env = append(os.Environ(), crashEnv+"="+schema, pgtest.EnvDSN+"="+dsn)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the worker did not get ready: %q %v", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	ctx := context.Background()
	l := open(t, schema, Options{RunID: "rescuer"})
	items := crashItems()
	got := map[string]ledger.Decision{}
	deadline := time.Now().Add(time.Minute)
	for len(got) < len(items) {
		if time.Now().After(deadline) {
			t.Fatalf("lines still busy after a minute: %d of %d decided", len(got), len(items))
		}
		ds, err := l.ClaimBatch(ctx, items, ledger.ClaimOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range ds {
			if d.Action != ledger.Busy && d.Action != ledger.Duplicate {
				got[items[i].MessageID] = d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i, it := range items {
		d := got[it.MessageID]
		var ok bool
		switch {
		case i < 10:
			ok = d.Action == ledger.Skip
		case i < 20:
			ok = d.Action == ledger.Process && d.Resend && d.TakeOver && d.Previous.Attempts == 1
		default:
			ok = d.Action == ledger.Process && !d.Resend && d.TakeOver
		}
		if !ok {
			t.Errorf("%s: %+v", it.MessageID, d)
		}
	}
	f, err := l.FleetStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range f.Workers {
		if w.Worker == "doomed" && (w.Leased != 0 || w.States[ledger.Sent] != 10) {
			t.Errorf("the dead worker after the take-over: %+v", w)
		}
	}
}

// crashChild is the worker that gets killed: it claims, sends some, marks
// some sending, says so, and waits for the SIGKILL (its heartbeat running).
func crashChild(schema string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	l, err := Open(ctx, os.Getenv(pgtest.EnvDSN), Options{RunID: "doomed", Schema: schema, LeaseTTL: time.Second})
	if err != nil {
		fail(err)
	}
	items := crashItems()
	if _, err := l.ClaimBatch(ctx, items, ledger.ClaimOptions{}); err != nil {
		fail(err)
	}
	for i := range 20 {
		if _, err := l.MarkSending(ctx, items[i].MessageID, payloadOf(items[i].MessageID)); err != nil {
			fail(err)
		}
		if i < 10 {
			if err := l.Finish(ctx, items[i].MessageID, ledger.Outcome{State: ledger.Sent}); err != nil {
				fail(err)
			}
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}
