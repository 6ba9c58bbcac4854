package validate

import (
	"context"
	"errors"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
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

// ProcessMessage checks the envelope. The attachment count is the count
// the message will be sent with: its attachments and those the stages after
// this one will add (doc.AttachmentsToCome, which the Runner works out from
// the pipeline).
func (s *Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := len(doc.Message.Attachments) + doc.AttachmentsToCome()
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
	if r.parsed != nil && len(r.problems) == 0 {
		// The sanitise stage reuses the parsed PDF and forgets it.
		doc.Remember(i, pdfdoc.ParsedKey, r.parsed)
	}
	doc.AddWarning(r.warnings...)
	return conneqt.NewValidationError(r.problems)
}

// CheckMessage checks a final wire message, envelope and every
// attachment's bytes, exactly as strictly as the service would: file names,
// text encodings, NHS number formatting and PDF active content must already
// be right, and every attachment must pass the size gate
// (conneqt.Route.CheckAttachmentSize). It does not change msg, depends only
// on its arguments (time through opts.Now), and returns problems and
// warnings sorted by path. A decoder that panics on an attachment's bytes
// makes that attachment a problem; a panic in gpdoc's own code is re-raised
// as a *pipeline.PanicError.
func CheckMessage(route *conneqt.Route, msg *conneqt.Message, opts Options) (problems, warnings []conneqt.Problem) {
	opts.exact = true
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
			var one report
			err := pipeline.Recover(nil, func() error {
				checkAttachment(route, i, att, opts, &one)
				return nil
			})
			var pe *pipeline.PanicError
			switch {
			case errors.As(err, &pe) && pe.Decoder != "":
				r.problem(conneqt.AttachmentField(i, "content"), "could not be read: the file is probably damaged (panic in "+pe.Decoder+")", "")
			case err != nil:
				panic(err)
			default:
				r.problems = append(r.problems, one.problems...)
				r.warnings = append(r.warnings, one.warnings...)
			}
		}
	}
	// A throwaway Document sorts by path the way every report does.
	var d pipeline.Document
	d.AddProblem(r.problems...)
	d.AddWarning(r.warnings...)
	return d.Problems(), d.Warnings()
}
