// Package sanitise is the "sanitise" pipeline stage: it fixes what can be
// fixed without changing a message's meaning, and reports every change.
//
//   - File names become valid Windows file names (see winname.Sanitise),
//     with an extension that suits the detected type, unique within the
//     message. Names are resolved together, in attachment order, in the
//     stage's message part, so the result never depends on goroutine order.
//   - subject.id.value loses the spaces and dashes of a printed NHS number.
//   - Text (text/plain and consultation notes) becomes clean UTF-8 with LF
//     newlines and no control characters (see package textnorm).
//   - JPEGs lose EXIF, XMP, IPTC, comments and trailing data without a
//     re-encode; an EXIF orientation other than 1 is kept as a minimal EXIF
//     segment holding only that tag (see package internal/jpeg/segment),
//     for the downsample stage, which turns the pixels upright and writes
//     no EXIF: no JPEG leaves gpdoc with the tag.
//   - PNGs lose their metadata the same way, by chunk rewriting without a
//     re-encode: text (tEXt, zTXt, iTXt), EXIF, tIME, suggested palettes
//     and unknown ancillary chunks, and data after IEND; what rendering
//     needs (gamma, chromaticities, sRGB, ICC profile, palette,
//     transparency, background, pixel size) stays (see internal/pngmeta).
//   - PDFs lose JavaScript, launch, submit and remote go-to actions, the
//     document's additional actions, embedded files and XFA; the rewritten
//     file is read back and checked before it replaces the original.
//
// What cannot be fixed safely (text in an encoding that cannot be told, a
// PDF that does not parse or is encrypted) is a problem, never a silent
// change. The stage is a ProblemCollector, and the Runner does not call its
// attachment part for attachments that already failed validation.
package sanitise

import (
	"context"
	"fmt"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/conneqt/winname"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
	"github.com/gpdoc/gpdoc/internal/pngmeta"
	"github.com/gpdoc/gpdoc/internal/textnorm"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// Name is the stage's name in pipelines.
const Name = "sanitise"

// Options configures the stage.
type Options struct {
	// MaxPixels is the pixel budget for images embedded in PDFs that are
	// read back after sanitising (<= 0: validate.DefaultMaxPixels).
	MaxPixels int64
}

// Stage is the sanitise stage; safe for concurrent use.
type Stage struct {
	opts Options
}

var (
	_ pipeline.MessageStage     = (*Stage)(nil)
	_ pipeline.AttachmentStage  = (*Stage)(nil)
	_ pipeline.ProblemCollector = (*Stage)(nil)
)

// New returns a sanitise stage.
func New(opts Options) (*Stage, error) {
	if opts.MaxPixels < 0 {
		return nil, fmt.Errorf("sanitise: MaxPixels is negative")
	}
	if opts.MaxPixels == 0 {
		opts.MaxPixels = validate.DefaultMaxPixels
	}
	return &Stage{opts: opts}, nil
}

// Name returns "sanitise".
func (s *Stage) Name() string { return Name }

// CollectsProblems returns true, so that sanitising continues (and reports
// what it would change) on a message that has problems elsewhere.
func (s *Stage) CollectsProblems() bool { return true }

// ProcessMessage normalises the NHS number and fixes every file name.
func (s *Stage) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg := doc.Message
	if v := msg.Subject.ID.Value; nhsnumber.Check(v) != nil {
		if n, err := nhsnumber.Normalise(v); err == nil {
			msg.Subject.ID.Value = n
			doc.AddChange(pipeline.Change{Name: "subject.id.value", Stage: Name, Action: "normalised",
				Before: nhsnumber.MaskLayout(v), After: nhsnumber.Mask(n), Detail: "removed spaces and dashes from the NHS number"})
		}
	}
	names := make([]string, len(msg.Attachments))
	for i, a := range msg.Attachments {
		if a == nil {
			continue
		}
		names[i] = validate.FixFileName(a.FileName, typeOf(a))
	}
	for i, n := range winname.Unique(names) {
		a := msg.Attachments[i]
		if a == nil || n == a.FileName {
			continue
		}
		doc.AddChange(pipeline.Change{Name: conneqt.AttachmentField(i, "fileName"), Stage: Name, Action: "renamed",
			Before: a.FileName, After: n, Detail: renameDetail(a.FileName, n, names[i])})
		a.FileName = n
	}
	return nil
}

// typeOf is the type an attachment's name should suit: the detected type
// when the validate stage recognised one the API names, else the declared.
func typeOf(a *conneqt.Attachment) string {
	if a.MIMEType == conneqt.MIMEConsultation {
		return a.MIMEType
	}
	if len(validate.Extensions(a.DetectedMIME)) > 0 {
		return a.DetectedMIME
	}
	return a.MIMEType
}

func renameDetail(before, after, fixed string) string {
	var why []string
	valid := winname.Sanitise(before)
	if valid != before {
		why = append(why, "not a valid Windows file name")
	}
	if fixed != valid {
		why = append(why, "extension missing or not matching the content")
	}
	if after != fixed {
		why = append(why, "another attachment has the same name")
	}
	return strings.Join(why, "; ")
}

// ProcessAttachment sanitises attachment i's content.
func (s *Stage) ProcessAttachment(ctx context.Context, doc *pipeline.Document, i int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := doc.Message.Attachments[i]
	// An attachment that failed validation is never sanitised (the Runner
	// skips it too; this covers a caller that runs the stage on its own).
	if a == nil || len(a.Data) == 0 || !doc.AttachmentOK(i) {
		return nil
	}
	kind := a.DetectedMIME
	if kind == "" {
		kind = validate.Detect(a.Data, a.MIMEType == conneqt.MIMEPDF)
	}
	content := conneqt.AttachmentField(i, "content")
	switch {
	case a.MIMEType == conneqt.MIMEText || a.MIMEType == conneqt.MIMEConsultation:
		return s.text(doc, a, content)
	case kind == conneqt.MIMEJPEG:
		return s.jpeg(doc, a, content)
	case kind == conneqt.MIMEPNG:
		return s.png(doc, a, content)
	case kind == conneqt.MIMEPDF:
		return s.pdf(ctx, doc, i, a, content)
	}
	return nil
}

func problem(name, reason string) error {
	return conneqt.NewValidationError([]conneqt.Problem{{Name: name, Reason: reason}})
}

func (s *Stage) text(doc *pipeline.Document, a *conneqt.Attachment, content string) error {
	res, err := textnorm.Normalise(a.Data)
	if err != nil {
		return problem(content, fmt.Sprintf("cannot be converted to UTF-8 safely: %v", err))
	}
	if !res.Changed() {
		return nil
	}
	doc.AddChange(pipeline.Change{Name: content, Stage: Name, Action: "normalised text",
		Detail: strings.Join(res.Changes(), "; "),
		Data: map[string]any{"encoding": res.Encoding, "newlines": res.Newlines, "controlsRemoved": res.Controls,
			"bytesBefore": len(a.Data), "bytesAfter": len(res.Text)}})
	a.Data = res.Text
	return nil
}

func (s *Stage) jpeg(doc *pipeline.Document, a *conneqt.Attachment, content string) error {
	res, err := segment.Strip(a.Data)
	if err != nil {
		return problem(content, "cannot remove the JPEG's metadata: "+err.Error())
	}
	if len(res.Removed) == 0 {
		return nil
	}
	detail := "removed " + strings.Join(res.Removed, ", ")
	if res.Orientation != 0 {
		detail += fmt.Sprintf("; kept only the EXIF orientation (%d), for the downsample stage to turn the pixels upright", res.Orientation)
	}
	doc.AddChange(pipeline.Change{Name: content, Stage: Name, Action: "removed metadata", Detail: detail,
		Data: map[string]any{"bytesBefore": len(a.Data), "bytesAfter": len(res.Data), "orientation": res.Orientation}})
	a.Data = res.Data
	return nil
}

func (s *Stage) png(doc *pipeline.Document, a *conneqt.Attachment, content string) error {
	res, err := pngmeta.Strip(a.Data)
	if err != nil {
		return problem(content, "cannot remove the PNG's metadata: "+err.Error())
	}
	if len(res.Removed) == 0 {
		return nil
	}
	doc.AddChange(pipeline.Change{Name: content, Stage: Name, Action: "removed metadata",
		Detail: "removed " + strings.Join(res.Removed, ", ") + " (the pixels are unchanged)",
		Data:   map[string]any{"bytesBefore": len(a.Data), "bytesAfter": len(res.Data), "removed": res.Removed}})
	a.Data = res.Data
	return nil
}

func (s *Stage) pdf(ctx context.Context, doc *pipeline.Document, i int, a *conneqt.Attachment, content string) error {
	// The validate stage parsed these bytes already (with every check
	// OpenContext makes); parse them again only if it did not.
	parsed, _ := doc.Recall(i, pdfdoc.ParsedKey).(*pdfdoc.Parsed)
	doc.Remember(i, pdfdoc.ParsedKey, nil)
	d := parsed.For(a.Data, s.opts.MaxPixels)
	if d == nil {
		var err error
		d, err = pdfdoc.OpenContext(ctx, a.Data, s.opts.MaxPixels, nil)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return problem(content, "is not a PDF gpdoc can sanitise: "+err.Error())
		}
	}
	found := pdfdoc.RemoveActive(d.Ctx)
	if len(found) == 0 {
		return nil
	}
	if d.Encrypted {
		return problem(content, "has active content and is encrypted, so it cannot be sanitised: send an unprotected copy")
	}
	out, err := pdfdoc.Write(d.Ctx)
	if err != nil {
		return problem(content, "has active content that could not be removed: "+err.Error())
	}
	check, err := pdfdoc.OpenContext(ctx, out, s.opts.MaxPixels, nil)
	if err != nil {
		return problem(content, "has active content, and the PDF written without it does not read back: "+err.Error())
	}
	if left := pdfdoc.FindActive(check.Ctx); len(left) > 0 {
		return problem(content, fmt.Sprintf("has active content that could not be removed: %v", left))
	}
	for _, f := range found {
		doc.AddChange(pipeline.Change{Name: content, Stage: Name, Action: "removed active content", Detail: f.String()})
	}
	doc.AddChange(pipeline.Change{Name: content, Stage: Name, Action: "rewrote PDF",
		Detail: fmt.Sprintf("rewrote the PDF without its active content (%d items)", len(found)),
		Data:   map[string]any{"bytesBefore": len(a.Data), "bytesAfter": len(out)}})
	a.Data = out
	return nil
}
