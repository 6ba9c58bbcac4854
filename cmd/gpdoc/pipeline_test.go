package main

import (
	"context"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/transport"
	"slices"
	"testing"
)

func TestDefaultPipeline(t *testing.T) {
	tests := []struct {
		name string
		opts pipelineOptions
		want []string
	}{
		{"send", pipelineOptions{Sender: nopSender{}}, []string{"validate", "sanitise", "render", "downsample", "encode", "assemble", "send"}},
		{"dry run", pipelineOptions{DryRunDir: t.TempDir()}, []string{"validate", "sanitise", "render", "downsample", "encode", "assemble", dryRunStage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := defaultPipeline(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Names(); !slices.Equal(got, tt.want) {
				t.Fatalf("stages %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := defaultPipeline(pipelineOptions{}); err == nil {
		t.Fatal("a pipeline with neither sender nor dry-run directory")
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *pipeline.Route, string, pipeline.Payload) (*transport.SendResult, error) {
	return &transport.SendResult{StatusEndpoint: "x"}, nil
}
