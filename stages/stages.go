// Package stages puts gpdoc's default pipeline together from the stage
// packages below it, one package per stage:
//
//	check phase:  validate → sanitise → render → downsample → sizegate
//	then:         encode+assemble → send
//
// The check phase (pipeline.Pipeline.Phases) holds every stage that can find
// a problem with a message; it runs on every document and reports every
// problem at once. validate checks the message as gpdoc's input, sanitise
// fixes what can be fixed safely, render checks the consultation data (and
// renders the report on a document without problems), downsample fits
// oversize images and PDFs under the route's limit, and the size gate
// (sizegate) refuses, with one message, whatever is still over it. Then
// encode+assemble builds the wire body, whose attachments are encoded to
// Base64 as it streams to send. With Options.Routes the routes stage comes
// first.
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

	"github.com/gpdoc/gpdoc/conneqt"
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

// RoutesStage is the name of the stage that gives each document the route
// of Options.Routes (present only when Routes is set).
const RoutesStage = "routes"

// Options configure the default pipeline. The zero value of each stage's
// options is that stage's default.
type Options struct {
	// Sender delivers messages (a *transport.Client). Nil only with DryRunDir.
	Sender send.Sender
	// DryRunDir, if set, replaces the send stage with one that writes each
	// assembled message to DryRunDir/<messageId>.json.
	DryRunDir string

	// Routes, when set, is the route table the pipeline applies: a first
	// stage (RoutesStage) replaces each document's route by the one of the
	// same name here, so that every later stage (the size checks, the
	// downsample stage's target, the send) reads it. The CLI sets it from
	// --max-attachment-bytes and --limit-basis (conneqt.Route's
	// WithAttachmentLimit); nil keeps the route each document came with.
	Routes map[conneqt.RouteName]*conneqt.Route

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
// run), after the RoutesStage when Options.Routes is set.
func Default(o Options) (pipeline.Pipeline, error) {
	if o.Sender == nil && o.DryRunDir == "" {
		return nil, ErrNoSink
	}
	p, err := Preflight(o)
	if err != nil {
		return nil, err
	}
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

// Preflight returns Default's pipeline short of delivery: every stage that
// can find a problem in a message (validate, sanitise, render with its
// checks, downsample, the size gate, encode+assemble), and neither send
// nor write. A document that passes it is one the send stage would get;
// `gpdoc validate` runs it, so that it reports every problem
// `gpdoc backfill --dry-run` would. Sender and DryRunDir are ignored.
func Preflight(o Options) (pipeline.Pipeline, error) {
	var p pipeline.Pipeline
	if o.Routes != nil {
		p = append(p, routesStage(o.Routes))
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
	// Every stage that can find a problem with a message is in the check
	// phase, so that one report lists every problem; downsample and the
	// size gate included, so that a file too large to send is reported with
	// the rest, and only once downsample has fitted what it can.
	p = append(p, v, s, r, pipeline.CollectingProblems(d), sizegate.New(), assemble.NewStage())
	return p, p.Validate()
}

// routesStage gives each document the route of the same name in routes.
// It is a pipeline.Preparer, so the Runner applies it before it reads the
// document's files (whose caps depend on the route's limit), and a stage
// that collects problems, so that it runs even on a document the manifest
// reader already found problems in.
func routesStage(routes map[conneqt.RouteName]*conneqt.Route) pipeline.Stage {
	return routeSetter{routes}
}

type routeSetter struct {
	routes map[conneqt.RouteName]*conneqt.Route
}

func (routeSetter) Name() string { return RoutesStage }

// CollectsProblems reports true: the stage runs on a document with problems.
func (routeSetter) CollectsProblems() bool { return true }

// PrepareDocument gives doc the route of its name in the table.
func (s routeSetter) PrepareDocument(doc *pipeline.Document) {
	if doc.Route == nil {
		return
	}
	if r, ok := s.routes[doc.Route.Name]; ok && r != nil {
		doc.Route = r
	}
}

// ProcessMessage does what PrepareDocument does, for a Runner that did not.
func (s routeSetter) ProcessMessage(_ context.Context, doc *pipeline.Document) error {
	s.PrepareDocument(doc)
	return nil
}
