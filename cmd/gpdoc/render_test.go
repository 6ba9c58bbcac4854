package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestRenderCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join("..", "..", "testdata", "render", "short.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"renders", []string{"render", in, "-o", filepath.Join(dir, "a.pdf"), "--deterministic"}, exitOK},
		{"renders again", []string{"render", in, "-o", filepath.Join(dir, "b.pdf")}, exitOK},
		{"reference time", []string{"render", in, "-o", filepath.Join(dir, "f.pdf"), "--reference-time", "2026-11-20T17:45:00Z"}, exitOK},
		{"bad reference time", []string{"render", in, "-o", filepath.Join(dir, "g.pdf"), "--reference-time", "today"}, exitUsage},
		{"no output flag", []string{"render", in}, exitUsage},
		{"missing input", []string{"render", filepath.Join(dir, "none.json"), "-o", filepath.Join(dir, "c.pdf")}, exitUsage},
		{"invalid consultation", []string{"render", bad, "-o", filepath.Join(dir, "d.pdf")}, exitFailed},
		{"two inputs", []string{"render", in, in, "-o", filepath.Join(dir, "e.pdf")}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := run(tt.args); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
		})
	}
	a, errA := os.ReadFile(filepath.Join(dir, "a.pdf"))
	b, errB := os.ReadFile(filepath.Join(dir, "b.pdf"))
	if errA != nil || errB != nil || !bytes.HasPrefix(a, []byte("%PDF-")) || !bytes.Equal(a, b) {
		t.Errorf("deterministic renders missing or different (%v, %v)", errA, errB)
	}
	if f, err := os.ReadFile(filepath.Join(dir, "f.pdf")); err != nil || !bytes.Contains(f, []byte("/CreationDate(D:20261120174500+00'00')")) {
		t.Errorf("--reference-time not used for the PDF's dates (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "d.pdf")); !os.IsNotExist(err) {
		t.Error("an invalid consultation left an output file")
	}
}
