package backfill

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressPrinters(t *testing.T) {
	tests := []struct {
		name  string
		make  func(*bytes.Buffer) Progress
		total int64
		want  []string
	}{
		{"bar", func(b *bytes.Buffer) Progress { return NewBarProgress(b) }, 3, []string{"3/3", "sent 2, invalid 1"}},
		{"bar without total", func(b *bytes.Buffer) Progress { return NewBarProgress(b) }, -1, []string{"sent 2, invalid 1"}},
		{"text", func(b *bytes.Buffer) Progress { return NewLogProgress(b, time.Millisecond, false) }, 3,
			[]string{"backfill finished: 3/3 lines (sent 2, invalid 1, failed 0, skipped 0)"}},
		{"json", func(b *bytes.Buffer) Progress { return NewLogProgress(b, time.Hour, true) }, 0,
			[]string{`{"event":"finished","done":3,"sent":2,"invalid":1,`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := tt.make(&buf)
			p.Start(tt.total)
			var c Counts
			for _, o := range []Outcome{OutcomeSent, OutcomeInvalid, OutcomeSent} {
				r := Result{Outcome: o}
				c.add(r)
				p.Update(r, c)
				time.Sleep(3 * time.Millisecond)
			}
			p.Finish(Summary{Counts: c, Elapsed: time.Second})
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	s := Summary{Counts: Counts{Done: 10, Sent: 6, Failed: 2, Skipped: 2, Bytes: 1_500_000},
		ByOutcome: map[Outcome]int64{OutcomeSent: 6, OutcomeConflict: 1, OutcomeFailedRetryable: 1, OutcomeSkipped: 2},
		Elapsed:   2 * time.Second}
	var b bytes.Buffer
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"sent", "6", "1.5 MB", "of which conflict", "of which failed-retryable", "4.0"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, b.String())
		}
	}
	if s.OK() {
		t.Error("OK with failures")
	}
}

func TestBarProgressRate(t *testing.T) {
	var buf bytes.Buffer
	p := NewBarProgress(&buf)
	p.Start(10)
	if got := buf.String(); strings.Contains(got, "msg/hr") || !strings.Contains(got, "- msg/s") {
		t.Errorf("first frame %q: want a rate of '- msg/s' until a message finishes", got)
	}
	var c Counts
	r := Result{Outcome: OutcomeSent}
	c.add(r)
	p.Update(r, c)
	p.Finish(Summary{Counts: c, Elapsed: 2 * time.Second})
	if got := buf.String(); !strings.Contains(got, "0.5 msg/s, sent 1") {
		t.Errorf("bar %q: want 1 finished in 2 s shown as 0.5 msg/s", got)
	}
}

func TestTerminalProgressFallsBack(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := NewTerminalProgress(&buf, time.Second).(*logProgress); !ok {
		t.Error("a buffer got a bar")
	}
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := NewTerminalProgress(f, time.Second).(*logProgress); !ok {
		t.Error("a file (no terminal width) got a bar")
	}
}
