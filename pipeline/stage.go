package pipeline

import (
	"context"
	"fmt"
	"slices"
)

// Stage is anything with a name that the Runner can run: a MessageStage, an
// AttachmentStage, or both.
type Stage interface {
	// Name identifies the stage in events, errors and Pipeline edits.
	Name() string
}

// MessageStage works on a whole message (validate the envelope, render a
// report, assemble, send). It is called once per document; different
// documents may be processed concurrently, so implementations must be safe for
// concurrent use. It must return promptly once ctx is done.
type MessageStage interface {
	Stage
	ProcessMessage(ctx context.Context, doc *Document) error
}

// AttachmentStage works on one attachment, doc.Message.Attachments[i]. The
// Runner calls it concurrently for the attachments of one document (and of
// many documents): it may change only that attachment, and must record
// problems and changes through doc's Add* methods.
type AttachmentStage interface {
	Stage
	ProcessAttachment(ctx context.Context, doc *Document, i int) error
}

// ProblemCollector is implemented by stages that keep examining a document
// that already has problems, so that one report lists every problem.
//
// The leading run of ProblemCollector stages of a Pipeline is its check
// phase (see [Pipeline.Phases]): in gpdoc's default pipeline every stage
// that can find a problem with a message (validate, sanitise, render, which
// renders the report only on a document without problems, downsample and
// the size gate). The Runner runs the whole check phase on every document
// and stops a document with problems at its end, with every problem. After
// the check phase, the Runner stops a document with problems before the
// first stage that is not a ProblemCollector. Within one run of consecutive
// attachment stages each attachment goes on through them until it has a
// problem of its own (or, after the check phase, the document had one
// before the run), so that the report does not depend on timing. An attachment stage, even a
// ProblemCollector, is not called for an attachment that already has a
// problem (see Document.AttachmentOK), whichever earlier stage found it.
type ProblemCollector interface {
	CollectsProblems() bool
}

// Preparer is implemented by a stage that must see a document before the
// Runner reads its attachment files, because what it changes decides how
// they are read (the stage that applies a route table with another size
// limit: the caps on the files read follow the route). The Runner calls
// PrepareDocument on every Preparer in the pipeline, in order, before it
// reads any file, and then runs the stages as usual.
type Preparer interface {
	PrepareDocument(doc *Document)
}

// AttachmentAdder is implemented by a stage that adds attachments to a
// message (render adds the consultation report). Before each message stage
// the Runner adds up what the stages after it will add, so that a check
// that runs first can count the attachments the message will be sent with
// (see Document.AttachmentsToCome) without knowing which stages follow.
type AttachmentAdder interface {
	// AttachmentsAdded is how many attachments the stage will add to doc.
	AttachmentsAdded(doc *Document) int
}

func collectsProblems(s Stage) bool {
	pc, ok := s.(ProblemCollector)
	return ok && pc.CollectsProblems()
}

type messageFunc struct {
	name string
	fn   func(context.Context, *Document) error
}

func (s messageFunc) Name() string { return s.name }
func (s messageFunc) ProcessMessage(ctx context.Context, d *Document) error {
	return s.fn(ctx, d)
}

// MessageFunc turns a function into a MessageStage.
func MessageFunc(name string, fn func(ctx context.Context, doc *Document) error) MessageStage {
	return messageFunc{name, fn}
}

type attachmentFunc struct {
	name string
	fn   func(context.Context, *Document, int) error
}

func (s attachmentFunc) Name() string { return s.name }
func (s attachmentFunc) ProcessAttachment(ctx context.Context, d *Document, i int) error {
	return s.fn(ctx, d, i)
}

// AttachmentFunc turns a function into an AttachmentStage.
func AttachmentFunc(name string, fn func(ctx context.Context, doc *Document, i int) error) AttachmentStage {
	return attachmentFunc{name, fn}
}

// Pipeline is an ordered list of stages. The edit methods return a new
// Pipeline and leave the receiver unchanged.
type Pipeline []Stage

// Names lists the stage names in order.
func (p Pipeline) Names() []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = s.Name()
	}
	return out
}

func (p Pipeline) index(name string) (int, error) {
	for i, s := range p {
		if s.Name() == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("pipeline: no stage named %q (have %v)", name, p.Names())
}

// InsertAfter returns p with stages inserted right after the stage called name.
func (p Pipeline) InsertAfter(name string, stages ...Stage) (Pipeline, error) {
	i, err := p.index(name)
	if err != nil {
		return nil, err
	}
	return slices.Insert(slices.Clone(p), i+1, stages...), nil
}

// InsertBefore returns p with stages inserted right before the stage called name.
func (p Pipeline) InsertBefore(name string, stages ...Stage) (Pipeline, error) {
	i, err := p.index(name)
	if err != nil {
		return nil, err
	}
	return slices.Insert(slices.Clone(p), i, stages...), nil
}

// Replace returns p with the stage called name replaced by s.
func (p Pipeline) Replace(name string, s Stage) (Pipeline, error) {
	i, err := p.index(name)
	if err != nil {
		return nil, err
	}
	q := slices.Clone(p)
	q[i] = s
	return q, nil
}

// Without returns p without the stages called names (names it lacks are ignored).
func (p Pipeline) Without(names ...string) Pipeline {
	return slices.DeleteFunc(slices.Clone(p), func(s Stage) bool { return slices.Contains(names, s.Name()) })
}

// Has reports whether p has a stage called name.
func (p Pipeline) Has(name string) bool { _, err := p.index(name); return err == nil }

// Phases splits p into its check phase, the leading run of stages that are
// ProblemCollectors, and the rest (see ProblemCollector).
func (p Pipeline) Phases() (check, rest Pipeline) {
	n := 0
	for n < len(p) && collectsProblems(p[n]) {
		n++
	}
	return p[:n:n], p[n:]
}

// Validate checks that every stage is a MessageStage or an AttachmentStage and
// that names are unique.
func (p Pipeline) Validate() error {
	seen := map[string]bool{}
	for _, s := range p {
		_, m := s.(MessageStage)
		_, a := s.(AttachmentStage)
		if !m && !a {
			return fmt.Errorf("pipeline: stage %q is neither a MessageStage nor an AttachmentStage", s.Name())
		}
		if seen[s.Name()] {
			return fmt.Errorf("pipeline: two stages named %q", s.Name())
		}
		seen[s.Name()] = true
	}
	return nil
}

// CollectingProblems returns s marked as a ProblemCollector, so that it runs
// on a document that already has problems (for a user's own checking stage;
// placed among the leading ProblemCollectors it is part of the check
// phase).
// The result implements the same stage interfaces as s.
func CollectingProblems(s Stage) Stage {
	ms, isMsg := s.(MessageStage)
	as, isAtt := s.(AttachmentStage)
	switch {
	case isMsg && isAtt:
		return collectingBoth{collectingMessage{ms}, collectingAttachment{as}}
	case isMsg:
		return collectingMessage{ms}
	case isAtt:
		return collectingAttachment{as}
	}
	return s
}

type collectingMessage struct{ MessageStage }

func (collectingMessage) CollectsProblems() bool { return true }

type collectingAttachment struct{ AttachmentStage }

func (collectingAttachment) CollectsProblems() bool { return true }

type collectingBoth struct {
	collectingMessage
	collectingAttachment
}

func (c collectingBoth) Name() string         { return c.collectingMessage.Name() }
func (collectingBoth) CollectsProblems() bool { return true }
