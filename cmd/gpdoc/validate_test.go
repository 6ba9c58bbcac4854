package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execute runs the gpdoc command line and returns stdout and the exit code.
func execute(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	code := exitOK
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.code
	default:
		code = exitUsage
	}
	return out.String(), code
}

const validLine = `{"route":"instant","sourceId":"a-1","topic":"Health","recipient":{"id":{"value":"GPPRAC001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"attachments":[{"fileName":"note.txt","mimeType":"text/plain","content":"Q2hlc3QgY2xlYXIu"}]}`

func writeManifest(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "manifest.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateCommand(t *testing.T) {
	examples := filepath.Join("..", "..", "testdata", "examples", "manifest.jsonl")
	invalid := strings.Replace(strings.Replace(validLine, "9434765919", "9434765918", 1), `"a-1"`, `"a-2"`, 1)
	mixed := writeManifest(t, validLine, "{not json", "", invalid)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{name: "examples", args: []string{"validate", examples}, code: exitOK,
			contains: []string{"line 1 (sourceId clinic-7731-letter", ": valid", "3 messages: 3 valid, 0 invalid; 0 malformed lines"}},
		{name: "examples strict", args: []string{"validate", "--sanitise=false", examples}, code: exitFailed,
			contains: []string{"problem  subject.id.value: must be the 10 digits of the NHS number without spaces or dashes (got \"943***5919\")"},
			absent:   []string{"9434765919"}},
		{name: "mixed", args: []string{"validate", mixed}, code: exitFailed,
			contains: []string{
				"line 1 (sourceId a-1, messageId ",
				"line 2: malformed: not valid JSON",
				"line 4 (sourceId a-2",
				"problem  subject.id.value: not a valid NHS number: the Modulus 11 check digit is wrong (got \"943***5918\")",
				"2 messages: 1 valid, 1 invalid; 1 malformed line",
			}},
		{name: "no manifest", args: []string{"validate"}, code: exitUsage},
		{name: "missing file", args: []string{"validate", filepath.Join(t.TempDir(), "none.jsonl")}, code: exitUsage},
		{name: "bad flag value", args: []string{"validate", "--max-pixels=-1", examples}, code: exitUsage},
		{name: "topics", args: []string{"validate", "--topic", "Health,Pharmacy", mixed}, code: exitFailed,
			contains: []string{"line 1 (sourceId a-1", ": valid"}},
		{name: "topic not allowed", args: []string{"validate", "--topic", "Pharmacy", writeManifest(t, validLine)}, code: exitFailed,
			contains: []string{"problem  topic: not one of the service's topics: 'Pharmacy' (got \"Health\")"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := execute(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; output:\n%s", code, tt.code, out)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("output has %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestValidateCommandJSON(t *testing.T) {
	invalid := strings.Replace(validLine, `"note.txt"`, `"CON.txt"`, 1)
	p := writeManifest(t, validLine, "{not json", invalid)
	out, code := execute(t, "validate", "--json", "--sanitise=false", p)
	if code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 JSON lines, got:\n%s", out)
	}
	var got []validateEntry
	for _, l := range lines {
		var e validateEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		got = append(got, e)
	}
	if !got[0].Valid || got[0].Line != 1 || got[0].SourceID != "a-1" {
		t.Errorf("line 1: %+v", got[0])
	}
	if got[1].Valid || got[1].Line != 2 || !strings.Contains(got[1].Error, "not valid JSON") {
		t.Errorf("line 2: %+v", got[1])
	}
	e := got[2]
	if e.Valid || e.Line != 3 || e.Problem == nil || e.Problem.Status != 400 || !strings.HasPrefix(e.Problem.Instance, "urn:uuid:") {
		t.Fatalf("line 3: %+v", e)
	}
	ps := e.Problem.InvalidParameters
	if len(ps) != 1 || ps[0].Name != "attachments[0].fileName" || ps[0].Reason != "must be a valid Windows file name: is a name Windows reserves for a device (CON)" {
		t.Errorf("line 3 problems: %+v", ps)
	}
}

// TestValidateExactReportsOnce: with --sanitise=false the message is also
// checked exactly as it will be sent; a problem both checks find is
// reported once.
func TestValidateExactReportsOnce(t *testing.T) {
	m := writeManifest(t, strings.Replace(validLine, `"mimeType":"text/plain","content"`, `"mimeType":"application/pdf","content"`, 1))
	for _, args := range [][]string{{"validate", m}, {"validate", "--sanitise=false", m}, {"validate", "--sanitise=false", "--downsample=false", m}} {
		out, code := execute(t, args...)
		if code != exitFailed {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, exitFailed, out)
		}
		if n := strings.Count(out, "attachments[0].mimeType"); n != 1 {
			t.Errorf("%v: the MIME type problem is reported %d times, want once:\n%s", args, n, out)
		}
	}
}
