package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
)

func TestDecideLeased(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	live, expired := now.Add(time.Second), now.Add(-time.Second)
	it := ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}
	entry := func(s ledger.State, run string, lease time.Time) *ledger.Entry {
		return &ledger.Entry{MessageID: "m1", Line: 1, Hash: "h", State: s, RunID: run, LeaseUntil: lease}
	}
	tests := []struct {
		name     string
		prev     *ledger.Entry
		action   ledger.Action
		resend   bool
		takeOver bool
		reason   string
	}{
		{"new", nil, ledger.Process, false, false, ""},
		{"leased by another live worker", entry(ledger.Sending, "w2", live), ledger.Busy, false, false, "leased by worker w2"},
		{"pending, lease expired", entry(ledger.Pending, "w2", expired), ledger.Process, false, true, "lease of worker w2 expired"},
		{"sending, lease expired", entry(ledger.Sending, "w2", expired), ledger.Process, true, true, "sending again"},
		{"sending, released", entry(ledger.Sending, "w2", time.Time{}), ledger.Process, true, false, "sending again"},
		{"own lease", entry(ledger.Pending, "w1", live), ledger.Duplicate, false, false, "earlier in this manifest"},
		{"sent (final entries hold no lease)", entry(ledger.Sent, "w2", live), ledger.Skip, false, false, "already sent"},
		{"failed-retryable, released", entry(ledger.FailedRetryable, "w2", time.Time{}), ledger.Process, true, false, "failed-retryable before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ledger.DecideLeased(tt.prev, it, "w1", now, ledger.ClaimOptions{})
			if d.Action != tt.action || d.Resend != tt.resend || d.TakeOver != tt.takeOver || !strings.Contains(d.Reason, tt.reason) {
				t.Fatalf("DecideLeased = %v resend=%v takeOver=%v %q, want %v resend=%v takeOver=%v %q",
					d.Action, d.Resend, d.TakeOver, d.Reason, tt.action, tt.resend, tt.takeOver, tt.reason)
			}
		})
	}
}
