package ledger_test

import (
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/ledgertest"
)

func TestDecide(t *testing.T) {
	const run = "run-2"
	item := ledger.Item{MessageID: "m1", Line: 3, Hash: "h1"}
	prev := func(s ledger.State, hash, runID string) *ledger.Entry {
		return &ledger.Entry{MessageID: "m1", Line: 3, Hash: hash, State: s, RunID: runID}
	}
	none, retry := ledger.ClaimOptions{}, ledger.ClaimOptions{RetryInvalid: true}
	tests := []struct {
		name   string
		prev   *ledger.Entry
		opts   ledger.ClaimOptions
		action ledger.Action
		resend bool
		after  ledger.State
	}{
		{"new", nil, none, ledger.Process, false, ledger.Pending},
		{"pending", prev(ledger.Pending, "h1", "run-1"), none, ledger.Process, false, ledger.Pending},
		{"pending changed", prev(ledger.Pending, "h0", "run-1"), none, ledger.Process, false, ledger.Pending},
		{"sending left by a crash", prev(ledger.Sending, "h1", "run-1"), none, ledger.Process, true, ledger.Sending},
		{"sending changed", prev(ledger.Sending, "h0", "run-1"), retry, ledger.Conflict, false, ""},
		{"sent", prev(ledger.Sent, "h1", "run-1"), none, ledger.Skip, false, ""},
		{"sent retry-invalid", prev(ledger.Sent, "h1", "run-1"), retry, ledger.Skip, false, ""},
		{"sent changed", prev(ledger.Sent, "h0", "run-1"), retry, ledger.Conflict, false, ""},
		{"invalid", prev(ledger.Invalid, "h1", "run-1"), none, ledger.Skip, false, ""},
		{"invalid retry-invalid unchanged", prev(ledger.Invalid, "h1", "run-1"), retry, ledger.Skip, false, ""},
		{"invalid changed no flag", prev(ledger.Invalid, "h0", "run-1"), none, ledger.Skip, false, ""},
		{"invalid changed retry-invalid", prev(ledger.Invalid, "h0", "run-1"), retry, ledger.Process, false, ledger.Pending},
		{"rejected", prev(ledger.RejectedContent, "h1", "run-1"), retry, ledger.Skip, false, ""},
		{"rejected changed retry-invalid", prev(ledger.RejectedContent, "h0", "run-1"), retry, ledger.Process, false, ledger.Pending},
		{"failed-retryable", prev(ledger.FailedRetryable, "h1", "run-1"), none, ledger.Process, true, ledger.FailedRetryable},
		{"failed-retryable changed", prev(ledger.FailedRetryable, "h0", "run-1"), none, ledger.Conflict, false, ""},
		{"failed-permanent", prev(ledger.FailedPermanent, "h1", "run-1"), none, ledger.Process, false, ledger.Pending},
		{"failed-permanent changed", prev(ledger.FailedPermanent, "h0", "run-1"), none, ledger.Process, false, ledger.Pending},
		{"duplicate in this run", prev(ledger.Pending, "h1", run), none, ledger.Duplicate, false, ""},
		{"duplicate in this run, sent", prev(ledger.Sent, "h1", run), none, ledger.Duplicate, false, ""},
		{"changed line in this run", prev(ledger.Pending, "h0", run), retry, ledger.Conflict, false, ""},
		{"changed line in this run, sent", prev(ledger.Sent, "h0", run), retry, ledger.Conflict, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ledger.Decide(tt.prev, item, run, tt.opts)
			if d.Action != tt.action || d.Resend != tt.resend {
				t.Fatalf("Decide = %v resend=%v (%s), want %v resend=%v", d.Action, d.Resend, d.Reason, tt.action, tt.resend)
			}
			if tt.prev != nil && d.Reason == "" {
				t.Error("no reason given")
			}
			if d.Action == ledger.Process {
				if s := ledger.StateAfterClaim(tt.prev); s != tt.after {
					t.Errorf("StateAfterClaim = %s, want %s", s, tt.after)
				}
			}
		})
	}
}

func TestStates(t *testing.T) {
	for _, s := range ledger.States {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if ledger.State("lost").Valid() {
		t.Error("unknown state valid")
	}
	for a, want := range map[ledger.Action]string{ledger.Process: "process", ledger.Skip: "skip",
		ledger.Conflict: "conflict", ledger.Duplicate: "duplicate", ledger.Busy: "busy", 0: "unknown"} {
		if a.String() != want {
			t.Errorf("%d: %s", a, a.String())
		}
	}
}

func TestMemory(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledgertest.Opener {
		m := ledger.NewMemory()
		first := true
		return func(t *testing.T) ledger.Ledger {
			if first {
				first = false
				return m
			}
			m = m.NewRun()
			return m
		}
	})
}
