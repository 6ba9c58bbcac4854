package upstream

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records failures and skips.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}
func (r *recorder) Fatal(args ...any) { r.failed, r.msg = true, fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skipped = true }
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
}

// TestCheck: a pin that does not match upstream fails, and a file
// upstream does not have skips.
func TestCheck(t *testing.T) {
	if Dir() == "" {
		t.Skip("no toolchain sources")
	}
	r := &recorder{TB: t}
	Check(r, "test", Pin{File: "writer.go", SHA256: "0000"})
	if !r.failed && !r.skipped {
		t.Error("a wrong pin passed")
	}
	r = &recorder{TB: t}
	Check(r, "test", Pin{File: "no-such-file.go", SHA256: "0000"})
	if !r.skipped {
		t.Error("a missing upstream file did not skip")
	}
}
