package main

import (
	"context"
	"fmt"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/downsample"
	"github.com/gpdoc/gpdoc/stages/encode"
	"github.com/gpdoc/gpdoc/stages/render"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// pipelineOptions say how the default pipeline ends: sending through Sender,
// or, for a dry run, writing each assembled message to DryRunDir.
type pipelineOptions struct {
	// Sender delivers messages (a *transport.Client); nil only for a dry run.
	Sender send.Sender
	// DryRunDir, if set, replaces the send stage with one that writes
	// DryRunDir/<messageId>.json.
	DryRunDir string
}

// dryRunStage is the name of the stage that replaces "send" in a dry run.
const dryRunStage = "write"

// defaultPipeline is gpdoc's pipeline: validate -> sanitise -> render ->
// downsample -> encode -> assemble -> send. It is the one place the stages
// are put together; every command that processes messages uses it.
func defaultPipeline(o pipelineOptions) (pipeline.Pipeline, error) {
	var p pipeline.Pipeline

	v, err := validate.New(validate.Options{
		Sanitise:   true, // the sanitise stage fixes names, text encodings, spaced NHS numbers
		Downsample: true, // the downsample stage fits oversize images and PDFs, converts PNG
	})
	if err != nil {
		return nil, fmt.Errorf("validate stage: %w", err)
	}
	s, err := sanitise.New(sanitise.Options{})
	if err != nil {
		return nil, fmt.Errorf("sanitise stage: %w", err)
	}
	p = append(p, v, s)

	r, err := render.New(render.Options{})
	if err != nil {
		return nil, fmt.Errorf("render stage: %w", err)
	}
	p = append(p, r)

	d, err := downsample.New(downsample.Options{})
	if err != nil {
		return nil, fmt.Errorf("downsample stage: %w", err)
	}
	p = append(p, d)

	p = append(p, encode.New(), assemble.NewStage())

	switch {
	case o.DryRunDir != "":
		dir := o.DryRunDir
		p = append(p, pipeline.MessageFunc(dryRunStage, func(_ context.Context, doc *pipeline.Document) error {
			_, err := assemble.WriteDir(dir, doc)
			return err
		}))
	case o.Sender != nil:
		p = append(p, send.New(o.Sender))
	default:
		return nil, fmt.Errorf("no sender and no dry-run directory")
	}
	return p, p.Validate()
}
