package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

const examples = "../../testdata/examples/manifest.jsonl"

func readResults(t *testing.T, path string) map[string]backfill.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]backfill.Result{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r backfill.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out[r.MessageID] = r
	}
	return out
}

// TestBackfillExamples runs `gpdoc backfill` over testdata/examples against
// the simulator: every message arrives once, attachments decode to the
// source files' bytes (unless a stage reports changing them), and a re-run
// sends nothing.
func TestBackfillExamples(t *testing.T) {
	srv := conneqttest.NewServer(conneqttest.Options{KeepBodies: true}) // the test compares the bytes sent
	defer srv.Close()
	dir := t.TempDir()
	ledgerPath, reportPath := filepath.Join(dir, "l.db"), filepath.Join(dir, "report.jsonl")
	args := []string{"backfill", "--url", srv.URL, "--access-token", srv.GrantAccessToken(),
		"--ledger", ledgerPath, "--report", reportPath, "--progress", "none", examples}
	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	if code := run(args); code != exitOK {
		t.Fatalf("backfill exit %d", code)
	}
	results := readResults(t, reportPath)

	f, err := os.Open(examples)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, compared := 0, 0
	for line := range manifest.Read(context.Background(), f, filepath.Dir(examples)) {
		if line.Err != nil {
			t.Fatal(line.Err)
		}
		lines++
		doc := line.Doc
		id := doc.Message.MessageID
		res := results[id]
		if res.Outcome != backfill.OutcomeSent || res.Attempts != 1 || res.StatusEndpoint == "" {
			t.Errorf("line %d: %+v", line.Number, res)
		}
		acc, ok := srv.Message(id)
		if !ok {
			t.Errorf("line %d (%s) never arrived", line.Number, id)
			continue
		}
		offset := 0
		if len(doc.Consultation) > 0 {
			offset = 1 // the rendered report comes first
		}
		changed := map[string]bool{}
		for _, c := range res.Changes {
			changed[c.Name] = true
		}
		for i, a := range doc.Message.Attachments {
			j := i + offset
			if j >= len(acc.Message.Attachments) {
				t.Fatalf("line %d: attachment %d missing", line.Number, i)
			}
			if changed[fmt.Sprintf("attachments[%d].content", j)] || a.Path == "" {
				continue
			}
			want, err := os.ReadFile(a.Path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(acc.Message.Attachments[j].Data, want) {
				t.Errorf("line %d: attachment %d differs from %s", line.Number, i, a.Path)
			}
			compared++
		}
	}
	if compared == 0 {
		t.Error("no attachment compared")
	}
	st := srv.Stats()
	if st.Accepted != int64(lines) || st.Duplicates != 0 || st.Rejected != 0 {
		t.Fatalf("simulator stats %+v, want %d accepted once", st, lines)
	}

	// A re-run skips everything and sends nothing.
	if code := run(args); code != exitOK {
		t.Fatalf("re-run exit %d", code)
	}
	for id, r := range readResults(t, reportPath) {
		if r.Outcome != backfill.OutcomeSkipped {
			t.Errorf("re-run %s: %+v", id, r)
		}
	}
	if st2 := srv.Stats(); st2.Messages != st.Messages {
		t.Fatalf("re-run sent %d more requests", st2.Messages-st.Messages)
	}
}

func TestBackfillUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no mode", []string{"backfill", "--progress", "none", examples}, exitUsage},
		{"two modes", []string{"backfill", "--sim", "--dry-run", dir, examples}, exitUsage},
		{"missing manifest", []string{"backfill", "--sim", filepath.Join(dir, "nope.jsonl")}, exitUsage},
		{"bad progress", []string{"backfill", "--sim", "--progress", "fancy", examples}, exitUsage},
		{"ledger with dry-run", []string{"backfill", "--dry-run", dir, "--ledger", filepath.Join(dir, "x.db"), examples}, exitUsage},
		{"url without key", []string{"backfill", "--url", "http://127.0.0.1:1", "--ledger", filepath.Join(dir, "y.db"), examples}, exitUsage},
		{"ledger stats of nothing", []string{"ledger", "stats", filepath.Join(dir, "none.db")}, exitUsage},
		{"status of a bare id", []string{"status", "abc"}, exitUsage},
	}
	t.Setenv("CONNEQT_API_KEY", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := run(tt.args); code != tt.want {
				t.Fatalf("exit %d, want %d", code, tt.want)
			}
		})
	}
}

// TestDryRunSendAndStats: --dry-run writes one file per message; send
// delivers one message file to the in-process simulator; ledger stats and
// status read the ledger.
func TestDryRunSendAndStats(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if code := run([]string{"backfill", "--dry-run", out, "--progress", "none", examples}); code != exitOK {
		t.Fatalf("dry run exit %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) != 3 {
		t.Fatalf("dry run wrote %v", files)
	}
	var msg map[string]any
	b, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(b, &msg); err != nil || msg["messageId"] == nil {
		t.Fatalf("%s: %v", files[0], err)
	}

	// One message, pretty-printed, through send --sim.
	first, _, _ := strings.Cut(mustRead(t, examples), "\n")
	var pretty bytes.Buffer
	json.Indent(&pretty, []byte(first), "", "  ")
	msgPath := filepath.Join(dir, "message.json")
	writeFile(t, msgPath, pretty.String())
	// Attachment paths are relative to the message file: link the files,
	// whose folder must then be allowed.
	for _, name := range []string{"discharge-letter.pdf", "consultation-note.txt"} {
		abs, _ := filepath.Abs(filepath.Join("../../testdata/examples", name))
		os.Symlink(abs, filepath.Join(dir, name))
	}
	srv := conneqttest.NewServer(conneqttest.Options{})
	defer srv.Close()
	t.Setenv("CONNEQT_API_KEY", srv.APIKey())
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	if code := run([]string{"send", "--url", srv.URL, msgPath}); code != exitFailed || srv.Stats().Messages != 0 {
		t.Fatalf("send of files linked from outside the message's folder: exit %d, want %d and nothing sent", code, exitFailed)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		// send keeps its ledger in the state directory; the refused run's
		// "invalid" would be skipped.
		os.Remove(filepath.Join(dir, "state", "gpdoc", "send.ledger.db") + suffix)
	}
	if code := run([]string{"send", "--url", srv.URL, "--allow-path", "../../testdata/examples", msgPath}); code != exitOK {
		t.Fatalf("send exit %d", code)
	}
	ledgerPath := filepath.Join(dir, "state", "gpdoc", "send.ledger.db") // send keeps its ledger in the state directory
	l, err := sqlite.Open(context.Background(), ledgerPath, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := l.Stats(context.Background())
	l.Close()
	if s[ledger.Sent] != 1 || s.Total() != 1 {
		t.Fatalf("ledger %v", s)
	}
	if code := run([]string{"ledger", "stats", "--json", ledgerPath}); code != exitOK {
		t.Fatalf("ledger stats exit %d", code)
	}
	for _, id := range []string{"clinic-7731-letter", manifest.DeriveMessageID("clinic-7731-letter")} {
		if code := run([]string{"status", "--ledger", ledgerPath, id}); code != exitOK {
			t.Fatalf("status %s: exit %d", id, code)
		}
	}
	if code := run([]string{"status", "--ledger", ledgerPath, "no-such-source"}); code != exitFailed {
		t.Fatalf("status of an unknown id: exit %d", code)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// genManifest writes n small valid standard-route messages.
func genManifest(t *testing.T, path string, n int, prefix string) {
	t.Helper()
	var b strings.Builder
	for i := range n {
		content := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "Clinical note %d for the crash test.\n", i))
		fmt.Fprintf(&b, `{"route":"standard","sourceId":"%s-%d","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"note %d"},"attachments":[{"fileName":"note-%d.txt","mimeType":"text/plain","content":"%s"}]}`+"\n",
			prefix, i, i, i, content)
	}
	writeFile(t, path, b.String())
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// gpdocBinary builds gpdoc once per test binary.
func gpdocBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gpdoc-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gpdoc")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startSim runs `gpdoc sim` as its own process and returns its URL.
// extra are more sim flags (faults).
func startSim(t *testing.T, bin string, latency time.Duration, extra ...string) string {
	t.Helper()
	args := []string{"sim", "--addr", "127.0.0.1:0", "--api-key", "crash-key", "--access-token", "crash-token",
		"--latency", latency.String(), "--deliver-after", "0"}
	cmd := exec.Command(bin, append(args, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "conneQt simulator listening on "); ok {
			go io.Copy(io.Discard, stdout)
			return u
		}
	}
	t.Fatal("gpdoc sim printed no URL")
	return ""
}

func simStats(t *testing.T, url string) conneqttest.Stats {
	t.Helper()
	resp, err := http.Get(url + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st conneqttest.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func ledgerStats(t *testing.T, path string) ledger.Stats {
	t.Helper()
	l, err := sqlite.Open(context.Background(), path, sqlite.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := l.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackfillCrash kills a backfill of 600 messages part-way (SIGKILL,
// then SIGINT), against `gpdoc sim` in its own process with latency, and
// re-runs it: the simulator accepts every message exactly once.
func TestBackfillCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gpdoc and runs processes")
	}
	const n = 600
	bin := gpdocBinary(t)
	tests := []struct {
		name    string
		signal  syscall.Signal
		twice   bool // a second signal: abandon the sends in flight
		latency time.Duration
	}{
		{"SIGKILL", syscall.SIGKILL, false, 15 * time.Millisecond},
		{"SIGINT", syscall.SIGINT, false, 15 * time.Millisecond},
		{"SIGINT twice", syscall.SIGINT, true, 400 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := startSim(t, bin, tt.latency)
			dir := t.TempDir()
			man := filepath.Join(dir, "m.jsonl")
			led := man + ".ledger.db" // the default
			genManifest(t, man, n, tt.name)
			backfillCmd := func(concurrency int) *exec.Cmd {
				cmd := exec.Command(bin, "backfill", "--url", url, "--concurrency", strconv.Itoa(concurrency), "--progress", "none", man)
				cmd.Env = append(os.Environ(), "CONNEQT_API_KEY=crash-key")
				return cmd
			}
			concurrency := 8
			if tt.twice {
				concurrency = 32
			}
			cmd := backfillCmd(concurrency)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for simStats(t, url).Accepted < n/8 {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("backfill too slow; stderr:\n%s", stderr.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			cmd.Process.Signal(tt.signal)
			if tt.twice {
				time.Sleep(100 * time.Millisecond)
				cmd.Process.Signal(tt.signal)
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			st := simStats(t, url)
			ls := ledgerStats(t, led)
			t.Logf("%s: exit %d (%v), simulator %d accepted; ledger %v", tt.name, code, err, st.Accepted, ls)
			if st.Accepted >= n {
				t.Fatalf("the run finished before the %s", tt.name)
			}
			if ls[ledger.Sent] > int(st.Accepted) {
				t.Fatalf("ledger says %d sent, simulator has %d", ls[ledger.Sent], st.Accepted)
			}
			if tt.twice {
				// Abandoned: exit 130; the sends in flight stay sending.
				if code != exitInterrupted || ls[ledger.Sending] == 0 || !strings.Contains(stderr.String(), "abandoning") {
					t.Fatalf("exit %d, ledger %v; stderr:\n%s", code, ls, stderr.String())
				}
				if ls[ledger.Sent]+ls[ledger.Sending] < int(st.Accepted) {
					t.Fatalf("the simulator has %d, the ledger knows of only %d", st.Accepted, ls[ledger.Sent]+ls[ledger.Sending])
				}
			} else if tt.signal == syscall.SIGINT {
				// A clean stop: exit 130, nothing left sending, the ledger
				// agrees with the simulator exactly.
				if code != exitInterrupted {
					t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.String())
				}
				if ls[ledger.Sending] != 0 || ls[ledger.Pending] != 0 || ls[ledger.Sent] != int(st.Accepted) {
					t.Fatalf("ledger after SIGINT %v, simulator accepted %d", ls, st.Accepted)
				}
			} else if ls[ledger.Sent]+ls[ledger.Sending] < int(st.Accepted) {
				// Everything the simulator has is sent or sending in the ledger.
				t.Fatalf("the simulator has %d, the ledger knows of only %d", st.Accepted, ls[ledger.Sent]+ls[ledger.Sending])
			}
			leftSending := ls[ledger.Sending]

			cmd = backfillCmd(64)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("re-run: %v\n%s", err, out)
			}
			st = simStats(t, url)
			ls = ledgerStats(t, led)
			if st.Accepted != n || st.Conflicts != 0 || st.Rejected != 0 || ls[ledger.Sent] != n || ls.Total() != n {
				t.Fatalf("after the re-run: simulator %+v, ledger %v", st, ls)
			}
			// Only the messages left sending may have been sent twice (the
			// same messageId and content: the simulator's duplicates).
			if st.Duplicates > int64(leftSending) {
				t.Fatalf("%d duplicates, but only %d messages were left sending", st.Duplicates, leftSending)
			}
		})
	}
}

// The README's main job: with --sim and no --ledger the ledger lives in
// memory, like the simulator, so running it twice sends everything twice
// (to two different simulators) and leaves no file beside the manifest.
func TestSimBackfillKeepsNoLedgerFile(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "m.jsonl")
	genManifest(t, manifest, 3, "sim")
	for range 2 {
		report := filepath.Join(dir, "report.jsonl")
		if code := run([]string{"backfill", "--sim", "--progress", "none", "--report", report, manifest}); code != exitOK {
			t.Fatalf("backfill --sim exit %d", code)
		}
		sent := 0
		for _, r := range readResults(t, report) {
			if r.Outcome == "sent" {
				sent++
			}
		}
		if sent != 3 {
			t.Fatalf("sent %d of 3", sent)
		}
	}
	if _, err := os.Stat(manifest + ".ledger.db"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a ledger file was left beside the manifest: %v", err)
	}
}
