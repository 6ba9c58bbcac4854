package pipeline_test

import (
	"context"
	"runtime/pprof"
	"sync"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline"
)

// TestStageLabels: every stage runs under the pprof label naming it, so
// that a CPU profile splits by stage.
func TestStageLabels(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(ctx context.Context, stage string) {
		v, _ := pprof.Label(ctx, pipeline.StageLabel)
		mu.Lock()
		seen[stage] = append(seen[stage], v)
		mu.Unlock()
	}
	p := pipeline.Pipeline{
		pipeline.MessageFunc("first", func(ctx context.Context, _ *pipeline.Document) error {
			record(ctx, "first")
			return nil
		}),
		pipeline.AttachmentFunc("each", func(ctx context.Context, _ *pipeline.Document, _ int) error {
			record(ctx, "each")
			return nil
		}),
	}
	if err := (&pipeline.Runner{Stages: p}).Process(context.Background(), newDoc(2)); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"first": {"first"}, "each": {"each", "each"}}
	for stage, labels := range want {
		if got := seen[stage]; len(got) != len(labels) || got[0] != labels[0] || got[len(got)-1] != labels[0] {
			t.Errorf("stage %q ran under labels %q, want %q", stage, got, labels)
		}
	}
}
