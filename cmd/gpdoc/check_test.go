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

	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

func TestCheckCommand(t *testing.T) {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	good := writeManifest(t, validLine)
	badTopic := writeManifest(t, strings.Replace(validLine, `"topic":"Health"`, `"topic":"Gossip"`, 1))
	token := sim.GrantAccessToken()
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"sim, good manifest", []string{"check", "--sim", good}, exitOK, []string{"connectivity  pass", "topics        pass"}},
		{"url, good", []string{"check", "--url", sim.URL, "--api-key", sim.APIKey(), "--access-token", token, good}, exitOK, []string{"access token  note"}},
		{"no token for instant", []string{"check", "--url", sim.URL, "--api-key", sim.APIKey(), good}, exitFailed, []string{"access token  fail"}},
		{"wrong key", []string{"check", "--url", sim.URL, "--api-key", "wrong-key-0000", good}, exitFailed, []string{"api key       fail"}},
		{"unknown topic", []string{"check", "--sim", badTopic}, exitFailed, []string{`"Gossip"`}},
		{"no service", []string{"check", good}, exitUsage, nil},
		{"missing manifest", []string{"check", "--sim", good + ".nope"}, exitUsage, nil},
	}
	t.Setenv("CONNEQT_URL", "")
	t.Setenv("CONNEQT_API_KEY", "")
	t.Setenv("CONNEQT_ACCESS_TOKEN", "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := execute(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tt.code, out)
			}
			for _, c := range tt.contains {
				if !strings.Contains(out, c) {
					t.Errorf("output does not contain %q:\n%s", c, out)
				}
			}
			if strings.Contains(out, "wrong-key-0000") || strings.Contains(out, token) {
				t.Errorf("output shows a secret:\n%s", out)
			}
		})
	}
}

func TestCheckCommandJSON(t *testing.T) {
	out, code := execute(t, "check", "--sim", "--json", writeManifest(t, validLine))
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var got struct {
		OK      bool `json:"ok"`
		Results []struct{ Name, Verdict, Detail string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || !got.OK || len(got.Results) != 4 {
		t.Fatalf("%v %+v\n%s", err, got, out)
	}
}

func TestTopicsAndToken(t *testing.T) {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	out, code := execute(t, "topics", "--url", sim.URL, "--api-key", sim.APIKey())
	if code != exitOK || strings.Join(strings.Fields(out), ",") != strings.Join(conneqttest.DefaultTopics, ",") {
		t.Fatalf("topics: exit %d, %q", code, out)
	}
	sim.AddAccessCode("123456")
	out, code = execute(t, "token", "exchange", "--url", sim.URL, "--api-key", sim.APIKey(), "123456")
	if code != exitOK || strings.TrimSpace(out) == "" {
		t.Fatalf("token exchange: exit %d, %q", code, out)
	}
	// The code is single use.
	if _, code = execute(t, "token", "exchange", "--url", sim.URL, "--api-key", sim.APIKey(), "123456"); code != exitFailed {
		t.Fatalf("second exchange of one code: exit %d, want %d", code, exitFailed)
	}
}

func TestVersion(t *testing.T) {
	out, code := execute(t, "--version")
	if code != exitOK || !strings.HasPrefix(out, "gpdoc ") || !strings.Contains(out, "commit ") {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
	out, code = execute(t, "version", "--json")
	var b buildInfo
	if code != exitOK || json.Unmarshal([]byte(out), &b) != nil || b.GoVersion == "" || b.Commit == "" || b.BuildDate == "" {
		t.Fatalf("version --json: exit %d, %q", code, out)
	}
}

func TestBackfillStdin(t *testing.T) {
	dir := t.TempDir()
	manifest, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"discharge-letter.pdf", "consultation-note.txt", "wound-photo.jpg"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), string(b))
	}
	t.Chdir(dir)
	run := func(args ...string) int {
		root := newRoot()
		var out, errOut bytes.Buffer
		root.SetIn(bytes.NewReader(manifest))
		root.SetOut(&out)
		root.SetErr(&errOut)
		root.SetArgs(args)
		err := root.ExecuteContext(context.Background())
		var ee *exitError
		switch {
		case err == nil:
			if !strings.Contains(out.String(), "sent") {
				t.Errorf("no summary:\n%s", out.String())
			}
			return exitOK
		case errors.As(err, &ee):
			return ee.code
		}
		return exitUsage
	}
	if code := run("backfill", "--sim", "--progress", "none", "-"); code != exitOK {
		t.Fatalf("backfill --sim -: exit %d", code)
	}
	t.Setenv("CONNEQT_URL", "http://127.0.0.1:1")
	t.Setenv("CONNEQT_API_KEY", "k")
	if code := run("backfill", "--progress", "none", "-"); code != exitUsage {
		t.Fatalf("backfill - without --ledger: exit %d, want %d", code, exitUsage)
	}
}

// TestLogFlagsOnEveryCommand: --log-level and --log-format are the root's,
// so a command that only talks to the service (topics) logs its requests
// as asked, and a bad value is a usage error on any command.
func TestLogFlagsOnEveryCommand(t *testing.T) {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"topics", "--url", sim.URL, "--api-key", sim.APIKey(), "--log-level", "debug", "--log-format", "json"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(errOut.String(), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(first), &rec); err != nil || rec["level"] != "DEBUG" {
		t.Fatalf("stderr %q: want JSON debug records of the requests", errOut.String())
	}
	if strings.Contains(errOut.String(), sim.APIKey()) {
		t.Error("the log shows the API key")
	}
	if _, code := execute(t, "topics", "--sim", "--log-level", "loud"); code != exitUsage {
		t.Errorf("--log-level loud: exit %d, want %d", code, exitUsage)
	}
}
