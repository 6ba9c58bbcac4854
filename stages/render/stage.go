package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on hosts without a zoneinfo database

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/render/layout"
)

// StageName is the render stage's Name.
const StageName = "render"

// DefaultMaxPages bounds a report's length (Options.MaxPages).
const DefaultMaxPages = 200

// Options configure a Stage. The zero value is ready to use.
//
// The report's bytes never depend on the clock: its dates come from the
// consultation and the reference time given to Render (a document's
// ReferenceTime), and the PDF's file id is a hash of its content.
type Options struct {
	// Now is the clock that dates of birth and consultation dates are
	// checked against ("must not be in the future"; default time.Now). It
	// only decides whether a consultation is accepted, never what the
	// report shows.
	Now func() time.Time
	// Location is the time zone dates are shown in (default Europe/London,
	// the zone of the GP practices that receive the reports).
	Location *time.Location
	// MaxPages is the longest report rendered; longer ones are a problem
	// with the consultation (default DefaultMaxPages).
	MaxPages int
}

// Stage renders the consultation summary PDF (the GP Connect Consultation
// Report) from a document's Consultation and puts it first among the
// message's attachments. It is a pipeline.MessageStage and safe for
// concurrent use.
type Stage struct {
	opts      Options
	reg, bold *layout.Font
}

var (
	_ pipeline.MessageStage     = (*Stage)(nil)
	_ pipeline.ProblemCollector = (*Stage)(nil)
	_ pipeline.AttachmentAdder  = (*Stage)(nil)
)

// AttachmentsAdded reports 1 for a document with consultation data whose
// report is not yet attachment 0, else 0: the Runner tells the stages
// before this one (validate counts the attachments the message will be sent
// with).
func (s *Stage) AttachmentsAdded(doc *pipeline.Document) int {
	raw := bytes.TrimSpace(doc.Consultation)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return 0
	}
	if atts := doc.Message.Attachments; len(atts) > 0 && atts[0] != nil && atts[0].Generated {
		return 0 // a re-run replaces the report it rendered before
	}
	return 1
}

// CollectsProblems reports true: the Runner calls the stage even for a
// document that already has problems, so that problems with the
// consultation are listed with the others; such a document is checked but
// not rendered.
func (s *Stage) CollectsProblems() bool { return true }

// New returns a render stage. It fails only if the embedded fonts cannot be
// loaded or the time zone is unknown.
func New(opts Options) (*Stage, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			return nil, fmt.Errorf("render: time zone: %w", err)
		}
		opts.Location = loc
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	reg, err := layout.GoRegular()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	bold, err := layout.GoBold()
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return &Stage{opts: opts, reg: reg, bold: bold}, nil
}

// Name returns "render".
func (s *Stage) Name() string { return StageName }

// Report is a rendered consultation report.
type Report struct {
	// FileName is the attachment name: the consultation's fileName or
	// "Consultation Report - DD-Mmm-YYYY.pdf".
	FileName string
	// PDF is the document.
	PDF []byte
	// Pages is its page count.
	Pages int
	// Missing lists characters the report font cannot draw; they are
	// printed as '?'.
	Missing []rune
}

// Render lays out and writes the report for a consultation. An invalid
// consultation (see Parse and Consultation.Validate), or one whose report
// would be longer than Options.MaxPages, is a *conneqt.ValidationError.
//
// ref is the reference time (pipeline.Document.ReferenceTime): the "Date
// consultation letter sent" when the consultation has no sentDateTime, and
// the PDF's creation and modification dates. A zero ref means the
// consultation's own dates only: sentDateTime, else consultationDateTime.
// The result is a pure function of c and ref.
func (s *Stage) Render(ctx context.Context, c *Consultation, ref time.Time) (rep *Report, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.Validate(s.opts.Now()); err != nil {
		return nil, err
	}
	consulted, sent, created := reportDates(c, ref)

	r := layoutReport(c, s.reg, s.bold, s.opts.Location, sent, s.opts.MaxPages)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pdf, err := r.d.PDF(layout.Info{Title: "Consultation Report", Creator: "gpdoc", Created: created})
	if errors.Is(err, layout.ErrTooManyPages) {
		return nil, conneqt.NewValidationError([]conneqt.Problem{{Name: "consultation",
			Reason: fmt.Sprintf("the report would be more than %d pages long; shorten the notes", s.opts.MaxPages)}})
	}
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	name := c.FileName
	if name == "" {
		name = "Consultation Report - " + FormatDate(consulted.In(s.opts.Location)) + ".pdf"
	}
	return &Report{FileName: name, PDF: pdf, Pages: r.d.Pages(), Missing: r.d.Missing()}, nil
}

// ProcessMessage renders doc.Consultation, if the document has one, and
// inserts the report as attachment 0 (the other attachments move up one;
// if attachment 0 is already a generated report, it is replaced).
//
// First it completes the fields the consultation shares with the message
// where one side leaves them out ([Fill], recorded as changes), then checks
// the consultation ([Parse]) and that it agrees with the message ([Check]).
// Problems are returned together as a *conneqt.ValidationError with paths
// under "consultation"; a document with problems is not rendered.
func (s *Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	raw := bytes.TrimSpace(doc.Consultation)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	doc.AddChange(Fill(doc)...)
	c, err := Parse(bytes.TrimSpace(doc.Consultation), s.opts.Now())
	if mismatches := Check(doc); len(mismatches) > 0 {
		var ve *conneqt.ValidationError
		if errors.As(err, &ve) {
			return conneqt.NewValidationError(append(slices.Clone(ve.Problems), mismatches...))
		}
		if err == nil {
			return conneqt.NewValidationError(mismatches)
		}
	}
	if err != nil {
		return err
	}
	if len(doc.Problems()) > 0 {
		return nil // the document stops after this stage: do not render
	}
	rep, err := s.Render(ctx, c, doc.ReferenceTime)
	if err != nil {
		return err
	}
	att := &conneqt.Attachment{
		FileName:     rep.FileName,
		MIMEType:     conneqt.MIMEPDF,
		Data:         rep.PDF,
		DetectedMIME: conneqt.MIMEPDF,
		Generated:    true,
	}
	if atts := doc.Message.Attachments; len(atts) > 0 && atts[0].Generated {
		atts[0] = att // rendered before (a re-run): replace, never duplicate
	} else {
		doc.InsertAttachment(0, att) // renumbers what earlier stages reported
	}
	doc.AddChange(pipeline.Change{
		Name:   conneqt.AttachmentField(0, ""),
		Stage:  StageName,
		Action: "rendered consultation report",
		After:  rep.FileName,
		Detail: fmt.Sprintf("%d page(s), %d bytes; other attachments moved up one", rep.Pages, len(rep.PDF)),
		Data:   map[string]any{"pages": rep.Pages, "bytes": len(rep.PDF), "confidential": c.Confidential},
	})
	if len(rep.Missing) > 0 {
		doc.AddWarning(conneqt.Problem{Name: "consultation",
			Reason: "the report font cannot draw some characters; they are printed as '?': " + runeList(rep.Missing)})
	}
	return nil
}

// reportDates returns the consultation time, the sending date the report
// shows and the PDF's creation date, from the consultation and the
// reference time alone (never the clock). c must be valid.
func reportDates(c *Consultation, ref time.Time) (consulted, sent, created time.Time) {
	consulted, _ = time.Parse(time.RFC3339, c.ConsultationDateTime)
	switch {
	case c.SentDateTime != "":
		sent, _ = time.Parse(time.RFC3339, c.SentDateTime)
	case !ref.IsZero():
		sent = ref
	default:
		sent = consulted
	}
	created = sent
	if !ref.IsZero() {
		created = ref
	}
	return consulted, sent, created
}

func runeList(rs []rune) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("U+%04X", r)
	}
	return strings.Join(parts, " ")
}
