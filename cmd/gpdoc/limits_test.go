package main

import (
	"path/filepath"
	"testing"
)

// TestLimitFlags: validate, backfill and send all take --max-attachment-bytes
// and --limit-basis, and refuse values that make no sense.
func TestLimitFlags(t *testing.T) {
	line := writeManifest(t, validLine)
	for _, cmd := range []string{"validate", "backfill", "send"} {
		for _, tt := range []struct {
			flags []string
			code  int
		}{
			{[]string{"--limit-basis", "base32"}, exitUsage},
			{[]string{"--max-attachment-bytes", "-1"}, exitUsage},
			{[]string{"--max-attachment-bytes", "3", "--limit-basis", "base64"}, exitUsage},
			{[]string{"--max-attachment-bytes", "1000", "--limit-basis", "BASE64"}, exitOK},
			{[]string{"--limit-basis", "decoded"}, exitOK},
		} {
			args := []string{cmd}
			if cmd != "validate" {
				args = append(args, "--dry-run", filepath.Join(t.TempDir(), "out"), "--progress", "none")
			}
			args = append(append(args, tt.flags...), line)
			if out, code := execute(t, args...); code != tt.code {
				t.Errorf("gpdoc %v: exit %d, want %d\n%s", args, code, tt.code, out)
			}
		}
	}
}
