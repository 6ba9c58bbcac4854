// Package stages puts gpdoc's default pipeline together from the stage
// packages below it, one package per stage:
//
//	check phase:  validate → sanitise → render
//	then:         downsample → sizegate → encode+assemble → send
//
// The check phase (pipeline.Pipeline.Phases) runs on every document and
// reports every problem it finds at once: validate checks the message as
// gpdoc's input, sanitise fixes what can be fixed safely, render checks the
// consultation data (and renders the report on a valid document). Then
// downsample fits oversize images and PDFs under the route's limit, the
// size gate (sizegate) refuses whatever is still over it, and
// encode+assemble builds the wire body, whose attachments are encoded to
// Base64 as it streams to send.
//
// Default is the one place the stages are assembled; the CLI uses it, and
// so can a program that embeds gpdoc. Edit the result with the
// pipeline.Pipeline methods to insert a stage of your own, reorder or drop
// one.
package stages

import (
	"context"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/downsample"
	"github.com/gpdoc/gpdoc/stages/render"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/stages/sizegate"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// DryRunStage is the name of the stage that replaces "send" in a dry run.
const DryRunStage = "write"

// Options configure the default pipeline. The zero value of each stage's
// options is that stage's default.
type Options struct {
	// Sender delivers messages (a *transport.Client). Nil only with DryRunDir.
	Sender send.Sender
	// DryRunDir, if set, replaces the send stage with one that writes each
	// assembled message to DryRunDir/<messageId>.json.
	DryRunDir string

	// Validate configures the validate stage.
	Validate   validate.Options
	Sanitise   sanitise.Options
	Render     render.Options
	Downsample downsample.Options
}

// ErrNoSink is returned by Default when Options has neither a Sender nor a
// DryRunDir.
var ErrNoSink = errors.New("stages: no sender and no dry-run directory")

// Default returns gpdoc's pipeline: validate → sanitise → render →
// downsample → sizegate → encode+assemble → send (or write, for a dry
// run).
func Default(o Options) (pipeline.Pipeline, error) {
	if o.Sender == nil && o.DryRunDir == "" {
		return nil, ErrNoSink
	}
	v, err := validate.New(o.Validate)
	if err != nil {
		return nil, fmt.Errorf("validate stage: %w", err)
	}
	s, err := sanitise.New(o.Sanitise)
	if err != nil {
		return nil, fmt.Errorf("sanitise stage: %w", err)
	}
	r, err := render.New(o.Render)
	if err != nil {
		return nil, fmt.Errorf("render stage: %w", err)
	}
	d, err := downsample.New(o.Downsample)
	if err != nil {
		return nil, fmt.Errorf("downsample stage: %w", err)
	}
	p := pipeline.Pipeline{v, s, r, d, sizegate.New(), assemble.NewStage()}
	if o.DryRunDir != "" {
		dir := o.DryRunDir
		p = append(p, pipeline.MessageFunc(DryRunStage, func(_ context.Context, doc *pipeline.Document) error {
			_, err := assemble.WriteDir(dir, doc)
			return err
		}))
	} else {
		p = append(p, send.New(o.Sender))
	}
	return p, p.Validate()
}
