package backfill

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

// A panic in gpdoc's own code (a stage bug) is an internal error: the
// ledger records failed-permanent with "internal error in stage X: ...;
// please report it", and neither the ledger nor the report holds the stack.
func TestStagePanicIsAnInternalError(t *testing.T) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the Runner logs the stack
	t.Cleanup(func() { slog.SetDefault(prev) })
	boom := pipeline.MessageFunc("boom", func(context.Context, *pipeline.Document) error {
		var m map[string]int
		m["x"]++ // a bug
		return nil
	})
	l := ledger.NewMemory()
	var report bytes.Buffer
	if _, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)),
		Pipeline: pipeline.Pipeline{boom, assemble, newFake()}, Ledger: l, Report: &report}); err != nil {
		t.Fatal(err)
	}
	rs := readReport(t, report.Bytes())
	if len(rs) != 1 || rs[0].Outcome != OutcomeFailedPermanent {
		t.Fatalf("report %+v, want one failed-permanent result", rs)
	}
	const want = "internal error in stage boom: assignment to entry in nil map; please report it"
	if !strings.Contains(rs[0].Error, want) {
		t.Errorf("report error %q lacks %q", rs[0].Error, want)
	}
	e, err := l.Get(context.Background(), manifest.DeriveMessageID("src-0"))
	if err != nil || e.State != ledger.FailedPermanent || !strings.Contains(string(e.Problem), want) {
		t.Fatalf("ledger entry %+v (%s) %v", e, e.Problem, err)
	}
	for _, text := range []string{rs[0].Error, string(e.Problem)} {
		if strings.Contains(text, "goroutine") || strings.Contains(text, ".go:") {
			t.Errorf("stack in %q", text)
		}
	}
}
