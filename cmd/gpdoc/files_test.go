//go:build unix

package main

import (
	"os"
	"path/filepath"
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
