//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestPatientDataFilesArePrivate: the --report file, the --dry-run folder
// and the messages in it are readable by their owner only, whatever the
// umask.
func TestPatientDataFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	out, report := filepath.Join(dir, "out"), filepath.Join(dir, "report.jsonl")
	if code := run([]string{"backfill", "--dry-run", out, "--report", report, "--progress", "none", examples}); code != exitOK {
		t.Fatalf("dry run exit %d", code)
	}
	want := map[string]os.FileMode{out: privateDirMode, report: privateFileMode}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	if len(files) == 0 {
		t.Fatal("no dry-run files")
	}
	for _, f := range files {
		want[f] = privateFileMode
	}
	for path, mode := range want {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
		}
	}
}

// TestAllowPathFlag: --allow-path must name existing folders.
func TestAllowPathFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"validate", "--allow-path", file, examples},
		{"validate", "--allow-path", filepath.Join(file, "missing"), examples},
		{"backfill", "--dry-run", t.TempDir(), "--allow-path", file, examples},
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code := run([]string{"validate", "--allow-path", t.TempDir(), "--allow-path", "/tmp", examples}); code != exitOK {
		t.Errorf("validate with two --allow-path: exit %d", code)
	}
}

// TestValidateRefusesWhatAManifestMustNotRead: the reproductions of issue
// 18, through the command line. Nothing outside the manifest's folder is
// read, a named pipe does not hang the run, and each is a problem at the
// attachment's path.
func TestValidateRefusesWhatAManifestMustNotRead(t *testing.T) {
	t.Setenv("GPDOC_TRUST_TEST_SECRET", "secret-api-key-value")
	line := func(path string) string {
		return strings.Replace(validLine, `"content":"Q2hlc3QgY2xlYXIu"`, `"path":`+strconv.Quote(path), 1)
	}
	manifest := writeManifest(t, line("/proc/self/environ"), line("/etc/shadow"), line("../outside.txt"), line("pipe"), line("/dev/zero"))
	if err := syscall.Mkfifo(filepath.Join(filepath.Dir(manifest), "pipe"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := execute(t, "validate", "--json", manifest)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailed, out)
	}
	if strings.Contains(out, "secret-api-key-value") {
		t.Fatal("the environment reached the output")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d results, want 5:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var e validateEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Valid || e.Problem == nil || len(e.Problem.InvalidParameters) != 1 || e.Problem.InvalidParameters[0].Name != "attachments[0].path" {
			t.Errorf("line %d: %s", i+1, l)
		}
	}
}
