// Package upstream checks gpdoc's forks of the standard library's
// image/jpeg against the toolchain's sources, for the forks' tests.
//
// Each forked package (internal/jpeg/coef, internal/jpeg/dct,
// internal/jpeg/encode) pins the SHA-256 of every upstream file it was
// taken from, as of the Go release named in its README.md, and calls
// [Check] from a test. When a Go release changes one of those files (a
// fix, say), the test fails and names it: review upstream's change, port
// what applies to the fork, then update the pin and the README.
package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Pin is one upstream file of $GOROOT/src/image/jpeg and its SHA-256 (hex)
// when it was forked.
type Pin struct {
	File   string
	SHA256 string
}

// Dir returns $GOROOT/src/image/jpeg of the toolchain on PATH, or "" when
// it cannot be found.
func Dir() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return filepath.Join(strings.TrimSpace(string(out)), "src", "image", "jpeg")
}

// Check fails t for every pinned file whose upstream copy differs from
// its pin, and skips t when the toolchain's sources are absent.
func Check(t testing.TB, release string, pins ...Pin) {
	t.Helper()
	dir := Dir()
	if dir == "" {
		t.Skip("upstream check skipped: `go env GOROOT` failed, so image/jpeg's sources cannot be compared")
	}
	for _, p := range pins {
		b, err := os.ReadFile(filepath.Join(dir, p.File))
		if os.IsNotExist(err) {
			t.Skipf("upstream check skipped: %s is absent (a toolchain without sources)", filepath.Join(dir, p.File))
		}
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != p.SHA256 {
			t.Errorf("image/jpeg/%s has changed since the fork (taken from %s): SHA-256 %s, pinned %s. "+
				"Diff it against %s, port any fix to the fork, then update the pin and README.md",
				p.File, release, got, p.SHA256, release)
		}
	}
}
