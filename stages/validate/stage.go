package validate

import (
	"context"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Name is the stage's name in pipelines.
const Name = "validate"

// Stage is the "validate" pipeline stage. Its message part checks the
// envelope and the file names; its attachment part checks each
// attachment's bytes and records the detected type in
// Attachment.DetectedMIME. It collects problems, so one report lists
// everything, and is safe for concurrent use.
type Stage struct {
	opts Options
}

var (
	_ pipeline.MessageStage     = (*Stage)(nil)
	_ pipeline.AttachmentStage  = (*Stage)(nil)
	_ pipeline.ProblemCollector = (*Stage)(nil)
)

// New returns a validate stage. It fails on options that make no sense
// (negative limits, an empty topic).
func New(opts Options) (*Stage, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &Stage{opts: opts}, nil
}

// Name returns "validate".
func (s *Stage) Name() string { return Name }

// CollectsProblems returns true: validation reports every problem at once.
func (s *Stage) CollectsProblems() bool { return true }

// ProcessMessage checks the envelope and the file names. The attachment
// count includes the consultation report the render stage adds when the
// document has consultation data.
func (s *Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(doc.Message.Attachments)
	if doc.Consultation != nil {
		n++
	}
	var r report
	checkEnvelope(doc.Route, doc.Message, n, s.opts, &r)
	checkNames(doc.Message, s.opts, &r)
	doc.AddWarning(r.warnings...)
	return conneqt.NewValidationError(r.problems)
}

// ProcessAttachment checks attachment i's bytes.
func (s *Stage) ProcessAttachment(ctx context.Context, doc *pipeline.Document, i int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	att := doc.Message.Attachments[i]
	if att == nil {
		return conneqt.NewValidationError([]conneqt.Problem{{Name: conneqt.AttachmentField(i, ""), Reason: "must be an attachment object, not null"}})
	}
	if att.Data == nil && att.Path != "" {
		// The runner could not read the file and has said so; mark the
		// attachment failed so that later stages leave it alone.
		return &conneqt.ValidationError{}
	}
	r := report{ctx: ctx}
	att.DetectedMIME = checkAttachment(doc.Route, i, att, s.opts, &r)
	doc.AddWarning(r.warnings...)
	return conneqt.NewValidationError(r.problems)
}

// CheckMessage checks a final wire message, envelope and every
// attachment's bytes, exactly as strictly as the service would when opts
// has neither Sanitise nor Downsample set. It does not change msg, depends
// only on its arguments (time through opts.Now), and returns problems and
// warnings sorted by path.
func CheckMessage(route *conneqt.Route, msg *conneqt.Message, opts Options) (problems, warnings []conneqt.Problem) {
	var r report
	switch {
	case route == nil:
		r.problem("type", "unknown route", "")
	case msg == nil:
		r.problem("", "no message", "")
	default:
		checkEnvelope(route, msg, len(msg.Attachments), opts, &r)
		checkNames(msg, opts, &r)
		for i, att := range msg.Attachments {
			if att == nil {
				r.problem(conneqt.AttachmentField(i, ""), "must be an attachment object, not null", "")
				continue
			}
			checkAttachment(route, i, att, opts, &r)
		}
	}
	// A throwaway Document sorts by path the way every report does.
	var d pipeline.Document
	d.AddProblem(r.problems...)
	d.AddWarning(r.warnings...)
	return d.Problems(), d.Warnings()
}
