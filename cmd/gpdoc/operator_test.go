package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// cli runs the gpdoc command line and returns its standard output, standard
// error (with the error run would print) and exit code.
func cli(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetIn(strings.NewReader(""))
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code = exitOK
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
		if ee.err != nil {
			errOut.WriteString("gpdoc: " + ee.err.Error() + "\n")
		}
	default:
		code = exitUsage
		errOut.WriteString("gpdoc: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

// listLedger returns every entry of a ledger file by messageId.
func listLedger(t *testing.T, path string) map[string]ledger.Entry {
	t.Helper()
	l, err := sqlite.Open(context.Background(), path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out := map[string]ledger.Entry{}
	if err := l.List(context.Background(), func(e ledger.Entry) error { out[e.MessageID] = e; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBackfillWrongKey: with a wrong API key the pre-flight check stops the
// run before anything is sent; with --no-check the circuit breaker stops it
// after 5 refusals with exit 1, the lines it did not send stay pending or
// unclaimed, and a run with the right key sends them all.
func TestBackfillWrongKey(t *testing.T) {
	const n = 20
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	mf, lp := filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "m.jsonl.ledger.db")
	genManifest(t, mf, n, "wk")
	t.Setenv("CONNEQT_API_KEY", "not-the-key")

	_, stderr, code := cli(t, "backfill", "--url", srv.URL, "--progress", "none", mf)
	if code != exitFailed || !strings.Contains(stderr, "pre-flight check failed") || !strings.Contains(stderr, "api key") {
		t.Fatalf("with the check: exit %d\n%s", code, stderr)
	}
	if got := len(listLedger(t, lp)); got != 0 || srv.Stats().Accepted != 0 {
		t.Fatalf("the failed check let %d lines through", got)
	}

	stdout, stderr, code := cli(t, "backfill", "--url", srv.URL, "--no-check", "--concurrency", "1", "--progress", "none", mf)
	if code != exitFailed || !strings.Contains(stderr, "5 messages in a row failed") || !strings.Contains(stdout, "stopped") {
		t.Fatalf("breaker: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "not-the-key") {
		t.Fatal("the API key was printed")
	}
	entries := listLedger(t, lp)
	failed := 0
	for i := range n {
		e, ok := entries[manifest.DeriveMessageID("wk-"+strconv.Itoa(i))]
		switch {
		case !ok, e.State == ledger.Pending && e.Attempts == 0:
		case e.State == ledger.FailedPermanent && e.Attempts == 1:
			failed++
		default:
			t.Fatalf("line %d: %+v", i+1, e)
		}
	}
	if failed != backfill.DefaultMaxConsecutiveFailures {
		t.Fatalf("%d lines failed, want %d", failed, backfill.DefaultMaxConsecutiveFailures)
	}

	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	if _, stderr, code := cli(t, "backfill", "--url", srv.URL, "--progress", "none", mf); code != exitOK || srv.Stats().Accepted != n {
		t.Fatalf("fixed: exit %d, %d accepted\n%s", code, srv.Stats().Accepted, stderr)
	}
}

// operatorManifest has two valid lines, one with an NHS number that fails
// its check digit, and one that is not JSON.
func operatorManifest(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "m.jsonl")
	genManifest(t, p, 2, "op")
	b := mustRead(t, p)
	bad := strings.Replace(strings.Replace(strings.SplitN(b, "\n", 2)[0], "9434765919", "9434765918", 1), "op-0", "op-bad", 1)
	writeFile(t, p, b+bad+"\n{\"route\":\n")
	return p
}

// TestBackfillMessageLines: every invalid message gets a line on standard
// error with its line, sourceId, masked NHS number and first problem; -q
// silences them; --log-format json writes JSON records.
func TestBackfillMessageLines(t *testing.T) {
	dir := t.TempDir()
	mf := operatorManifest(t, dir)
	tests := []struct {
		name  string
		flags []string
		check func(t *testing.T, stderr string)
	}{
		{"text", nil, func(t *testing.T, stderr string) {
			for _, want := range []string{"line=3", "sourceId=op-bad", "nhsNumber=943***5918", "subject.id.value", "line=4"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("no %q in\n%s", want, stderr)
				}
			}
		}},
		{"quiet", []string{"-q"}, func(t *testing.T, stderr string) {
			if strings.Contains(stderr, "line=") {
				t.Errorf("-q printed message lines:\n%s", stderr)
			}
		}},
		{"json", []string{"--log-format", "json"}, func(t *testing.T, stderr string) {
			records := 0
			for _, l := range strings.Split(stderr, "\n") {
				if !strings.HasPrefix(l, "{") {
					continue
				}
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("%q: %v", l, err)
				}
				if rec["line"] != nil {
					records++
				}
			}
			if records != 2 {
				t.Errorf("%d message records, want 2:\n%s", records, stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"backfill", "--sim", "--progress", "none"}, tt.flags...)
			stdout, stderr, code := cli(t, append(args, mf)...)
			if code != exitFailed {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if strings.Contains(stderr, "9434765918") || strings.Contains(stdout, "9434765918") {
				t.Fatalf("a full NHS number was printed:\n%s\n%s", stdout, stderr)
			}
			if !strings.Contains(stdout, "most frequent problems") || !strings.Contains(stdout, "ledger") {
				t.Fatalf("summary:\n%s", stdout)
			}
			tt.check(t, stderr)
		})
	}
}

// TestBackfillJSONAndReport: --json prints one object that matches the
// ledger; --report appends each run's lines in line order under the run's
// id, and keeps the problems of a line skipped as invalid.
func TestBackfillJSONAndReport(t *testing.T) {
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	dir := t.TempDir()
	mf := operatorManifest(t, dir)
	lp, rp := filepath.Join(dir, "l.db"), filepath.Join(dir, "r.jsonl")
	var runs []runSummary
	for range 2 {
		stdout, stderr, code := cli(t, "backfill", "--url", srv.URL, "--json", "-q", "--ledger", lp, "--report", rp, "--concurrency", "4", mf)
		if code != exitFailed {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var s runSummary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil || strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
			t.Fatalf("--json printed %q: %v", stdout, err)
		}
		runs = append(runs, s)
	}
	stats := ledgerStats(t, lp)
	first := runs[0]
	if first.Counts.Sent != int64(stats[ledger.Sent]) || first.Counts.Invalid != 2 || stats[ledger.Invalid] != 1 || first.OK ||
		first.Ledger != lp || first.Report != rp || first.RunID == "" || len(first.TopProblems) == 0 {
		t.Fatalf("summary %+v, ledger %v", first, stats)
	}
	if second := runs[1]; second.Counts.Skipped != 3 || second.Counts.Sent != 0 || second.RunID == first.RunID {
		t.Fatalf("re-run summary %+v", second)
	}

	f, err := os.Open(rp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []backfill.Result
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r backfill.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, r)
	}
	if len(lines) != 8 {
		t.Fatalf("%d report lines, want 8", len(lines))
	}
	for i, r := range lines {
		want := runs[i/4].RunID
		if r.Line != i%4+1 || r.RunID != want || r.Time.IsZero() {
			t.Fatalf("report line %d: line %d run %q, want line %d run %q", i, r.Line, r.RunID, i%4+1, want)
		}
	}
	if r := lines[6]; r.Outcome != backfill.OutcomeSkipped || len(r.Problems) == 0 || r.Problems[0].Name != "subject.id.value" {
		t.Fatalf("skipped invalid line: %+v", r)
	}
}

// TestSendJSON: send prints the messageId and status endpoint and keeps its
// ledger in the user's state directory.
func TestSendJSON(t *testing.T) {
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	mf := filepath.Join(dir, "m.jsonl")
	genManifest(t, mf, 1, "one")
	stdout, stderr, code := cli(t, "send", "--url", srv.URL, mf)
	id := manifest.DeriveMessageID("one-0")
	if code != exitOK || !strings.Contains(stdout, id) || !strings.Contains(stdout, "/status") {
		t.Fatalf("send: exit %d\n%s\n%s", code, stdout, stderr)
	}
	lp := filepath.Join(dir, "state", "gpdoc", "send.ledger.db")
	if e := listLedger(t, lp)[id]; e.State != ledger.Sent {
		t.Fatalf("ledger %s: %+v", lp, e)
	}
	stdout, _, code = cli(t, "send", "--url", srv.URL, "--json", mf)
	var s runSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || code != exitOK || s.Message == nil ||
		s.Message.MessageID != id || s.Message.StatusEndpoint == "" || s.Ledger != lp || s.Counts.Skipped != 1 {
		t.Fatalf("send --json: exit %d %q %v", code, stdout, err)
	}
	if srv.Stats().Accepted != 1 {
		t.Fatal("sent twice")
	}
}

// everyState writes a ledger file with one message in every state, a
// problem on the failed ones, and a polled status on the sent one.
func everyState(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	l, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i, st := range ledger.States {
		id := "m-" + string(st)
		if _, err := l.Claim(ctx, ledger.Item{MessageID: id, SourceID: "s-" + string(st), Line: i + 1, Hash: "h" + strconv.Itoa(i)}, ledger.ClaimOptions{}); err != nil {
			t.Fatal(err)
		}
		if st == ledger.Pending {
			continue
		}
		if _, err := l.MarkSending(ctx, id, strings.Repeat("a", 64)); err != nil {
			t.Fatal(err)
		}
		if st == ledger.Sending {
			continue
		}
		o := ledger.Outcome{State: st}
		if st == ledger.Sent {
			o.StatusEndpoint = "https://x.test/api/v1/messages/" + id + "/status"
		} else {
			o.Problem = json.RawMessage(`{"title":"Request Validation Error","status":400,"invalidParameters":[{"name":"subject.id.value","reason":"bad, \"quoted\"","value":"943***5918"}]}`)
		}
		if err := l.Finish(ctx, id, o); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if err := l.RecordPoll(ctx, "m-sent", at, &ledger.StatusRecord{Status: "DELIVERED"}); err != nil {
		t.Fatal(err)
	}
}

// fromCSV reads a `ledger export --format csv` row back.
func fromCSV(t *testing.T, row []string) exportRecord {
	t.Helper()
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	line, _ := strconv.Atoi(row[2])
	attempts, _ := strconv.Atoi(row[5])
	r := exportRecord{Entry: ledger.Entry{MessageID: row[0], SourceID: row[1], Line: line, Hash: row[3], State: ledger.State(row[4]),
		Attempts: attempts, StatusEndpoint: row[7], RunID: row[8], Created: at(row[9]), Updated: at(row[10]),
		PayloadSHA256: row[16], LeaseUntil: at(row[17])}}
	if row[6] != "" {
		r.Problem = json.RawMessage(row[6])
	}
	if row[11] != "" || row[15] != "" {
		r.Delivery = &ledger.StatusRecord{Status: row[11], SubStatus: row[12], Reason: row[13], Checked: at(row[14])}
		for _, p := range strings.Fields(row[15]) {
			r.Delivery.Polls = append(r.Delivery.Polls, at(p))
		}
	}
	return r
}

// TestLedgerExportRoundTrip: `ledger export` writes every message in every
// state, as JSON Lines or CSV, and reading either back gives the ledger's
// entries exactly; --state filters; `ledger list` shows them.
func TestLedgerExportRoundTrip(t *testing.T) {
	lp := filepath.Join(t.TempDir(), "l.db")
	everyState(t, lp)
	l, err := sqlite.Open(context.Background(), lp, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	l.List(context.Background(), func(e ledger.Entry) error {
		r := exportRecord{Entry: e}
		if st, _ := l.Status(context.Background(), e.MessageID); st.Status != "" {
			r.Delivery = &st
		}
		b, _ := json.Marshal(r)
		want = append(want, string(b))
		return nil
	})
	l.Close()
	if len(want) != len(ledger.States) {
		t.Fatalf("%d entries", len(want))
	}

	read := map[string]func(t *testing.T, out string) []exportRecord{
		"jsonl": func(t *testing.T, out string) []exportRecord {
			var rs []exportRecord
			dec := json.NewDecoder(strings.NewReader(out))
			for {
				var r exportRecord
				if err := dec.Decode(&r); err == io.EOF {
					return rs
				} else if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
			}
		},
		"csv": func(t *testing.T, out string) []exportRecord {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rows[0], ",") != strings.Join(csvHeader, ",") {
				t.Fatalf("header %v", rows[0])
			}
			var rs []exportRecord
			for _, row := range rows[1:] {
				rs = append(rs, fromCSV(t, row))
			}
			return rs
		},
	}
	for format, parse := range read {
		t.Run(format, func(t *testing.T) {
			out, stderr, code := cli(t, "ledger", "export", "--format", format, lp)
			if code != exitOK {
				t.Fatalf("exit %d %s", code, stderr)
			}
			got := parse(t, out)
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			for i, r := range got {
				b, _ := json.Marshal(r)
				if string(b) != want[i] {
					t.Fatalf("record %d:\n got %s\nwant %s", i, b, want[i])
				}
			}
		})
	}
	out, _, code := cli(t, "ledger", "export", "--state", "invalid,rejected-content", lp)
	if code != exitOK || strings.Count(out, "\n") != 2 {
		t.Fatalf("--state: exit %d\n%s", code, out)
	}
	if _, _, code := cli(t, "ledger", "list", "--state", "lost", lp); code != exitUsage {
		t.Fatalf("unknown state: exit %d", code)
	}
	out, _, code = cli(t, "ledger", "list", lp)
	for _, st := range ledger.States {
		if !strings.Contains(out, string(st)) {
			t.Fatalf("list lacks %s:\n%s", st, out)
		}
	}
	if code != exitOK || !strings.Contains(out, "DELIVERED") || !strings.Contains(out, "subject.id.value") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
}

// TestLedgerStatus: `ledger status` stores each sent message's status in
// the ledger and polls a message at most 4 times a day.
func TestLedgerStatus(t *testing.T) {
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	dir := t.TempDir()
	mf, lp := filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "l.db")
	genManifest(t, mf, 3, "st")
	if _, stderr, code := cli(t, "backfill", "--url", srv.URL, "--ledger", lp, "--progress", "none", mf); code != exitOK {
		t.Fatalf("backfill exit %d\n%s", code, stderr)
	}
	for i := 1; i <= ledger.MaxPollsPerDay+1; i++ {
		out, stderr, code := cli(t, "ledger", "status", "--json", "--again", lp)
		var s pollSummary
		if err := json.Unmarshal([]byte(out), &s); err != nil || code != exitOK {
			t.Fatalf("pass %d: exit %d %q %v\n%s", i, code, out, err, stderr)
		}
		wantPolled := 3
		if i > ledger.MaxPollsPerDay {
			wantPolled = 0
		}
		if s.Polled != wantPolled || s.Polled+s.Limited != 3 {
			t.Fatalf("pass %d: %+v", i, s)
		}
		if i > ledger.MaxPollsPerDay && s.NextPoll.Before(time.Now().Add(23*time.Hour)) {
			t.Fatalf("next poll %v", s.NextPoll)
		}
	}
	out, _, _ := cli(t, "ledger", "export", lp)
	if strings.Count(out, `"delivery":{"status":"PENDING"`) != 3 {
		t.Fatalf("statuses not stored:\n%s", out)
	}
}
