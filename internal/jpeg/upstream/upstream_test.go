package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// changed returns why file in dir differs from its pin, "" when it does
// not, or fs.ErrNotExist when it is absent.
func changed(dir, file, pin string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != pin {
		return "SHA-256 " + got + ", pinned " + pin, nil
	}
	return "", nil
}

// TestForksUnchanged fails when a Go release changes an image/jpeg file a
// fork was taken from, and skips when the toolchain's sources are absent.
func TestForksUnchanged(t *testing.T) {
	dir := Dir()
	if dir == "" {
		t.Skip("upstream check skipped: `go env GOROOT` failed, so image/jpeg's sources cannot be compared")
	}
	for _, f := range Forks {
		for file, pin := range f.Pins {
			why, err := changed(dir, file, pin)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skipf("upstream check skipped: %s is absent (a toolchain without sources)", filepath.Join(dir, file))
			}
			if err != nil {
				t.Fatal(err)
			}
			if why != "" {
				t.Errorf("image/jpeg/%s has changed since %s was forked from %s: %s. "+
					"Diff it against %s, port any fix to the fork, then update the pin here and its README.md",
					file, f.Package, f.Release, why, f.Release)
			}
		}
	}
}

// TestChanged: a wrong pin is reported, the right one is not, and a
// missing file is fs.ErrNotExist.
func TestChanged(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.go"), []byte("package a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("package a\n"))
	for _, tt := range []struct {
		file, pin string
		changed   bool
		err       error
	}{
		{"a.go", hex.EncodeToString(sum[:]), false, nil},
		{"a.go", "0000", true, nil},
		{"b.go", "0000", false, fs.ErrNotExist},
	} {
		why, err := changed(dir, tt.file, tt.pin)
		if (why != "") != tt.changed || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("changed(%s, %s) = %q, %v", tt.file, tt.pin, why, err)
		}
	}
}
