package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	ledgeropen "github.com/gpdoc/gpdoc/ledger/open"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
)

// TestMain stops the throw-away PostgreSQL cluster the fleet tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// fleetDSN returns a DSN of the test PostgreSQL server whose search_path is
// a new schema of this test (dropped when it ends), or skips the test.
func fleetDSN(t *testing.T) string {
	t.Helper()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		t.Skip("the worker processes are given the ledger as a URL; this test's DSN is not one")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// reportOutcomes counts the outcomes of a report file, and returns its
// results by messageId (the last line of each wins).
func reportOutcomes(t *testing.T, path string) (map[backfill.Outcome]int, map[string]backfill.Result) {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return map[backfill.Outcome]int{}, map[string]backfill.Result{}
	}
	if err != nil {
		t.Fatal(err)
	}
	counts, by := map[backfill.Outcome]int{}, map[string]backfill.Result{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r backfill.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		counts[r.Outcome]++
		by[r.MessageID] = r
	}
	return counts, by
}

// TestFleetKillOneWorker: three `gpdoc backfill` processes share one
// PostgreSQL ledger over a manifest of 600 messages, against `gpdoc sim` with
// injected faults (10% 503s, a third of them after the message was stored,
// 5 ms latency). One is killed with SIGKILL part-way; its leases (2 s) expire
// and the others take its messages over. Runs are repeated until one exits
// 0. Then every message was accepted exactly once (no 409), every
// surviving worker sent a share, and each message the killed worker held
// was finished by another worker after the lease had expired.
func TestFleetKillOneWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpdoc and runs processes")
	}
	dsn := fleetDSN(t)
	bin := gpdocBinary(t)
	url := startSim(t, bin, 5*time.Millisecond, "--fail-503", "0.1", "--fail-503-routes", "standard",
		"--after-store", "0.3", "--seed", "17")
	dir := t.TempDir()
	man := filepath.Join(dir, "m.jsonl")
	const n = 600
	lines := make([]string, n)
	for i := range lines {
		lines[i] = textLine(i)
	}
	writeFile(t, man, strings.Join(lines, "\n")+"\n")

	metricsAddr := freeAddr(t)
	worker := func(id string) (*exec.Cmd, *bytes.Buffer) {
		args := []string{"backfill", "--url", url, "--ledger", dsn, "--worker-id", id, "--lease-ttl", "2s",
			"--concurrency", "4", "--progress", "none", "--no-check", "--report", filepath.Join(dir, id+".jsonl"), man}
		if id == "w1" {
			args = append(args, "--metrics-addr", metricsAddr)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "CONNEQT_API_KEY=crash-key", "CONNEQT_ACCESS_TOKEN=crash-token")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	ids := []string{"w0", "w1", "w2"}
	cmds := map[string]*exec.Cmd{}
	outs := map[string]*bytes.Buffer{}
	waits := make(chan string, len(ids))
	for _, id := range ids {
		cmd, out := worker(id)
		cmds[id], outs[id] = cmd, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { cmd.Wait(); waits <- id }() // not cmds[id]: the map is written as the loop goes on
	}
	deadline := time.Now().Add(2 * time.Minute)
	for simStats(t, url).Accepted < n/4 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cmds["w0"].Process.Signal(syscall.SIGKILL)

	// What the killed worker held: unfinished entries under a live lease.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT message_id, lease_until FROM gpdoc_messages
		WHERE run_id = 'w0' AND lease_until > now() AND state NOT IN ('sent', 'invalid', 'rejected-content')`)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]time.Time{}
	var id string
	var until time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &until}, func() error { held[id] = until; return nil }); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed w0 after %d accepted, holding %d leases", simStats(t, url).Accepted, len(held))
	if len(held) == 0 {
		t.Fatal("the killed worker held no lease: the test proves nothing (kill it earlier)")
	}

	// w1 is still running: it waits for w0's leases to expire.
	scrape := getText(t, "http://"+metricsAddr+"/metrics")
	for _, name := range []string{"gpdoc_messages_total{outcome=\"sent\"}", "gpdoc_send_attempts_total{route=\"standard\",status=\"200\"}",
		"gpdoc_send_duration_seconds_bucket", "gpdoc_bytes_sent_total", "gpdoc_messages_in_flight", "gpdoc_lease_takeovers_total"} {
		if !strings.Contains(scrape, name) {
			t.Errorf("w1's metrics have no %s", name)
		}
	}
	for range ids {
		<-waits
	}
	codes := map[string]int{}
	for _, id := range ids[1:] {
		codes[id] = cmds[id].ProcessState.ExitCode()
		if c := codes[id]; c != exitOK && c != exitFailed {
			t.Fatalf("worker %s exited %d:\n%s", id, c, outs[id])
		}
	}
	t.Logf("survivors exited %v", codes)
	ok := codes["w1"] == exitOK || codes["w2"] == exitOK
	for run := 1; !ok; run++ {
		if run > 6 {
			t.Fatalf("no run exited 0 after %d re-runs", run-1)
		}
		cmd, out := worker(fmt.Sprintf("rerun%d", run))
		cmd.Run()
		code := cmd.ProcessState.ExitCode()
		t.Logf("re-run %d: exit %d", run, code)
		if code != exitOK && code != exitFailed {
			t.Fatalf("re-run %d exited %d:\n%s", run, code, out)
		}
		ok = code == exitOK
	}

	st := simStats(t, url)
	if st.Accepted != n || st.Conflicts != 0 {
		t.Fatalf("simulator: %d accepted, %d conflicts (409); want %d and 0 (%+v)", st.Accepted, st.Conflicts, n, st)
	}
	if st.LostResponses == 0 || st.Faults == 0 {
		t.Errorf("the simulator injected no faults (%+v): the test proves less than it says", st)
	}
	l, err := ledgeropen.Open(ctx, dsn, ledgeropen.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if s, err := l.Stats(ctx); err != nil || s[ledger.Sent] != n || s.Total() != n {
		t.Fatalf("ledger stats %v (%v), want %d sent", s, err, n)
	}
	// ledger stats and export read the shared ledger.
	out, err := exec.Command(bin, "ledger", "stats", dsn).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "w1") || !strings.Contains(string(out), "LEASED") {
		t.Errorf("ledger stats: %v\n%s", err, out)
	}
	t.Logf("gpdoc ledger stats:\n%s", out)
	cmd := exec.Command(bin, "ledger", "export", "--format", "csv")
	cmd.Env = append(os.Environ(), "GPDOC_LEDGER="+dsn)
	if out, err := cmd.CombinedOutput(); err != nil || strings.Count(string(out), "\n") != n+1 {
		t.Errorf("ledger export (GPDOC_LEDGER): %v, %d lines", err, strings.Count(string(out), "\n"))
	}
	// Every surviving worker sent a share.
	finishedBy := map[string]backfill.Result{}
	for _, w := range ids[1:] {
		counts, by := reportOutcomes(t, filepath.Join(dir, w+".jsonl"))
		t.Logf("%s: %v", w, counts)
		if counts[backfill.OutcomeSent] == 0 {
			t.Errorf("worker %s sent nothing", w)
		}
		for id, r := range by {
			if r.Outcome == backfill.OutcomeSent {
				finishedBy[id] = r
			}
		}
	}
	for i := 1; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("rerun%d.jsonl", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		_, by := reportOutcomes(t, p)
		for id, r := range by {
			if r.Outcome == backfill.OutcomeSent {
				finishedBy[id] = r
			}
		}
	}
	// The killed worker's messages were taken over, once its lease expired.
	for id, until := range held {
		e, err := l.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		r, ok := finishedBy[id]
		switch {
		case e.RunID == "w0":
			t.Errorf("message %s: still recorded under the killed worker (%s)", id, e.State)
		case !ok:
			t.Errorf("message %s: no surviving worker reports sending it (ledger: %s by %s)", id, e.State, e.RunID)
		case !strings.Contains(r.Reason, "lease of worker w0 expired"):
			t.Errorf("message %s: sent by %s without a take-over (%q)", id, r.RunID, r.Reason)
		case r.Time.Before(until):
			t.Errorf("message %s: finished by %s at %v, before w0's lease expired at %v", id, r.RunID, r.Time, until)
		}
	}
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getText GETs url and returns the body.
func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFleetFlags: the fleet flags are checked, and a PostgreSQL URL's
// password is never printed, even when the database cannot be reached.
func TestFleetFlags(t *testing.T) {
	dir := t.TempDir()
	man := filepath.Join(dir, "m.jsonl")
	writeFile(t, man, textLine(1)+"\n")
	dead := "postgres://gpdoc:s3cret-pw@127.0.0.1:1/gpdoc?connect_timeout=2"
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"rate scope", []string{"backfill", "--sim", "--rate", "5", "--rate-scope", "galaxy", man}, exitUsage, "--rate-scope must be worker or fleet"},
		{"fleet scope needs a rate", []string{"backfill", "--sim", "--rate-scope", "fleet", man}, exitUsage, "needs a --rate"},
		{"lease too short", []string{"backfill", "--sim", "--lease-ttl", "10ms", man}, exitUsage, "--lease-ttl must be at least 1s"},
		{"fleet rate on SQLite", []string{"backfill", "--sim", "--no-check", "--ledger", filepath.Join(dir, "l.db"), "--rate", "5", "--rate-scope", "fleet", man}, exitUsage, "needs a ledger shared by the fleet"},
		{"unreachable database", []string{"backfill", "--sim", "--no-check", "--ledger", dead, man}, exitUsage, "postgres://gpdoc:xxxxx@127.0.0.1:1/gpdoc"},
		{"ledger stats, unreachable", []string{"ledger", "stats", dead}, exitUsage, "postgres://gpdoc:xxxxx@127.0.0.1:1/gpdoc"},
		{"ledger status on PostgreSQL", []string{"ledger", "status", dead}, exitUsage, "SQLite ledgers only"},
		{"no ledger at all", []string{"ledger", "stats"}, exitUsage, "no ledger given"},
		{"the simulator ignores GPDOC_LEDGER", []string{"backfill", "--sim", "--no-check", man}, exitOK, "(in memory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := ""
			if strings.Contains(tt.name, "GPDOC_LEDGER") {
				env = dead
			}
			t.Setenv(ledgeropen.EnvLedger, env)
			stdout, stderr, code := cli(t, tt.args...)
			all := stdout + stderr
			if code != tt.code || !strings.Contains(all, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tt.code, tt.want, all)
			}
			if strings.Contains(all, "s3cret-pw") {
				t.Errorf("the password was printed:\n%s", all)
			}
		})
	}
}
