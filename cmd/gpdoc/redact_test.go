package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/budget"
)

// The NHS number of every line below, in every form it is written in.
var fullNumbers = []string{"9434765919", "943 476 5919", "943-476-5919"}

// redactManifest writes a manifest whose lines carry the NHS number
// through every path that used to leak it: a missing file's path, a file
// name the sanitise stage renames, and the number in the wrong field (a
// problem's "got" value).
func redactManifest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("Chest clear."), 0o600); err != nil {
		t.Fatal(err)
	}
	const head = `{"route":"standard","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},` +
		`"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"Letter"},`
	lines := []string{
		head + `"sourceId":"r-1","attachments":[{"fileName":"letter.pdf","mimeType":"application/pdf","path":"letters/9434765919.pdf"}]}`,
		head + `"sourceId":"r-2","attachments":[{"fileName":"Letter 943 476 5919?.txt","mimeType":"text/plain","path":"note.txt"}]}`,
		strings.Replace(head, `"G00001"`, `"943-476-5919"`, 1) + `"sourceId":"r-3","attachments":[{"fileName":"note.txt","mimeType":"text/plain","path":"note.txt"}]}`,
	}
	p := filepath.Join(dir, "manifest.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func assertNoLeak(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(fullNumbers, secrets...) {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks %q:\n%s", what, s, text)
		}
	}
	if !strings.Contains(text, "943***5919") {
		t.Errorf("%s does not show the masked number:\n%s", what, text)
	}
}

// TestValidateOutputIsRedacted: gpdoc validate, text and JSON.
func TestValidateOutputIsRedacted(t *testing.T) {
	m := redactManifest(t)
	for _, args := range [][]string{{"validate", m}, {"validate", "--json", m}, {"validate", "--sanitise=false", m}} {
		out, code := execute(t, args...)
		if code != exitFailed {
			t.Errorf("%v: exit %d, want %d", args, code, exitFailed)
		}
		assertNoLeak(t, strings.Join(args[:len(args)-1], " "), out)
	}
}

// TestBackfillOutputIsRedacted: the backfill report and the ledger's
// problem JSON, with a server whose error body echoes the client's API key.
func TestBackfillOutputIsRedacted(t *testing.T) {
	const key = "backfill-test-key-0c7e1d9a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "<html>rejected: ApiKey "+r.Header.Get("ApiKey")+" patient 943 476 5919</html>")
	}))
	defer srv.Close()
	m := redactManifest(t)
	dir := t.TempDir()
	ledgerPath, reportPath := filepath.Join(dir, "l.db"), filepath.Join(dir, "report.jsonl")
	t.Setenv("CONNEQT_API_KEY", key)
	root := newRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	// --no-check: this server answers no connectivity test.
	root.SetArgs([]string{"backfill", "--no-check", "--url", srv.URL, "--ledger", ledgerPath, "--report", reportPath, "--progress", "none", m})
	root.ExecuteContext(context.Background())
	assertNoLeak(t, "the per-message lines and summary", stderr.String()+stdout.String(), key)

	report := mustRead(t, reportPath)
	if strings.Count(report, "\n") != 3 {
		t.Fatalf("report:\n%s", report)
	}
	assertNoLeak(t, "the report", report, key)
	var db []byte
	for _, p := range []string{ledgerPath, ledgerPath + "-wal"} {
		b, _ := os.ReadFile(p)
		db = append(db, b...)
	}
	if !bytes.Contains(db, []byte("invalidParameters")) {
		t.Fatal("the ledger holds no problem JSON")
	}
	assertNoLeak(t, "the ledger", string(db), key)
	for _, s := range append(fullNumbers, key) {
		if strings.Contains(stdout.String()+stderr.String(), s) {
			t.Errorf("the output leaks %q: %s%s", s, stdout.String(), stderr.String())
		}
	}
	// What gpdoc status shows from the ledger.
	for _, args := range [][]string{{"status", "--ledger", ledgerPath, "r-2"}, {"status", "--json", "--ledger", ledgerPath, "r-2"}} {
		out, _ := execute(t, args...)
		assertNoLeak(t, strings.Join(args[:2], " "), out, key)
	}
}

// TestResourceFlags: --decode-budget, --image-decodes, --pdf-timeout and
// --memory-limit are checked and applied.
func TestResourceFlags(t *testing.T) {
	m := writeManifest(t, validLine)
	tests := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"--decode-budget", "lots", "validate", m}, exitUsage, ""},
		{[]string{"--decode-budget", "0", "validate", m}, exitUsage, ""},
		{[]string{"--pdf-timeout", "-1s", "validate", m}, exitUsage, ""},
		{[]string{"--image-decodes", "0", "validate", m}, exitUsage, ""},
		{[]string{"--image-decodes", "2", "validate", m}, exitOK, ": valid"},
		{[]string{"--memory-limit", "lots", "validate", m}, exitUsage, ""},
		{[]string{"--memory-limit", "1MiB", "validate", m}, exitUsage, ""},
		{[]string{"--memory-limit", "", "validate", m}, exitOK, ": valid"},
		{[]string{"--decode-budget", "1GiB", "--pdf-timeout", "30s", "--memory-limit", "200MiB", "validate", m}, exitOK, ": valid"},
	}
	for _, tt := range tests {
		out, code := execute(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.contains) {
			t.Errorf("%v: exit %d, want %d; output %q", tt.args, code, tt.code, out)
		}
	}
	if budget.Process().Size() != 1<<30 {
		t.Errorf("process budget %d after --decode-budget 1GiB", budget.Process().Size())
	}
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("memory limit %d after --memory-limit 200MiB", got)
	}
	execute(t, "validate", m) // the default again
	if budget.Process().Size() != budget.DefaultSize {
		t.Errorf("process budget %d, want the default", budget.Process().Size())
	}
	if got := debug.SetMemoryLimit(-1); got != 100<<20 && os.Getenv("GOMEMLIMIT") == "" {
		t.Errorf("memory limit %d, want the default %s", got, DefaultMemoryLimit)
	}
}
