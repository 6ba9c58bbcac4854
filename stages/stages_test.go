package stages_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
)

func TestDefaultPipeline(t *testing.T) {
	tests := []struct {
		name string
		opts stages.Options
		want []string
	}{
		{"send", stages.Options{Sender: nopSender{}}, []string{"validate", "sanitise", "render", "downsample", "encode", "assemble", "send"}},
		{"dry run", stages.Options{DryRunDir: t.TempDir()}, []string{"validate", "sanitise", "render", "downsample", "encode", "assemble", stages.DryRunStage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := stages.Default(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !slices.Equal(got, tt.want) {
				t.Fatalf("stages %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := stages.Default(stages.Options{}); !errors.Is(err, stages.ErrNoSink) {
		t.Fatalf("a pipeline with neither sender nor dry-run directory: err %v", err)
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *pipeline.Route, string, pipeline.Payload) (*transport.SendResult, error) {
	return &transport.SendResult{StatusEndpoint: "x"}, nil
}
