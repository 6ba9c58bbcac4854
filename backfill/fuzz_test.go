package backfill

import (
	"bytes"
	"context"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline"
)

// FuzzRun feeds arbitrary manifests to Run (no ledger, a fake sender): it
// must not fail or panic, and must report exactly one result per non-blank
// line, each with an outcome.
func FuzzRun(f *testing.F) {
	f.Add([]byte(testManifest(2)))
	f.Add([]byte(testLine(1, "x") + "\n" + testLine(1, "x") + "\n"))
	f.Add([]byte("{not json\n\n  \n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fake := newFake()
		var report bytes.Buffer
		s, err := Run(context.Background(), Config{Manifest: bytes.NewReader(data), DryRun: true,
			Pipeline: pipeline.Pipeline{assemble, fake}, Concurrency: 2, Report: &report, MaxBytesInFlight: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		results := readReport(t, report.Bytes())
		if int64(len(results)) != s.Done {
			t.Fatalf("%d results, summary says %d", len(results), s.Done)
		}
		for _, r := range results {
			if r.Outcome == "" || r.Line < 1 {
				t.Fatalf("result %+v", r)
			}
		}
	})
}
