// Package corpustest locates the shared test corpus for tests: the folder
// ../shared/corpus beside the repository (as CI lays it out), or the folder
// named by $GPDOC_CORPUS. Tests skip when neither exists.
package corpustest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpus folder joined with elem, or skips t.
func Dir(t testing.TB, elem ...string) string {
	t.Helper()
	root := find()
	if root == "" {
		t.Skip("test corpus not found: expected ../shared/corpus beside the repository, or $GPDOC_CORPUS")
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

func find() string {
	if d := os.Getenv("GPDOC_CORPUS"); d != "" {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			c := filepath.Join(dir, "..", "shared", "corpus")
			if fi, err := os.Stat(c); err == nil && fi.IsDir() {
				return c
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
