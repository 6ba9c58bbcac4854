package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptEndsRun: Ctrl-C ends a backfill whose sends would take
// minutes within its grace period (2 s by default): the messages in flight
// are abandoned, the run exits 130, and a re-run against a prompt service
// sends every message. The bound asserted is far above the grace period
// and far below the sends' time: this checks behaviour, not speed.
func TestInterruptEndsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := gpdocBinary(t)
	dir := t.TempDir()
	man := filepath.Join(dir, "m.jsonl")
	genManifest(t, man, 20, "int")
	slow := startSim(t, bin, 5*time.Minute) // every answer takes 5 minutes
	env := append(os.Environ(), "CONNEQT_API_KEY=crash-key", "CONNEQT_ACCESS_TOKEN=crash-token")

	cmd := exec.Command(bin, "backfill", "--no-check", "--url", slow, "--concurrency", "4", "--progress", "none", man)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // sends are in flight
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("exit %v, want %d\n%s", err, exitInterrupted, out.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("still running 30 s after Ctrl-C (grace 2 s)\n%s", out.String())
	}
	t.Logf("ended %v after Ctrl-C", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out.String(), "abandoning the messages still in flight after 2s") {
		t.Errorf("output does not say the messages in flight were abandoned:\n%s", out.String())
	}

	fast := startSim(t, bin, 0)
	again := exec.Command(bin, "backfill", "--no-check", "--url", fast, "--progress", "none", man)
	again.Env = env
	if b, err := again.CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, b)
	}
	if st := simStats(t, fast); st.Accepted != 20 {
		t.Fatalf("re-run: %d accepted, want 20", st.Accepted)
	}
}
