package downsample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// StageName is the stage's Name().
const StageName = "downsample"

// Stage is the downsample pipeline.AttachmentStage. It changes an
// attachment only when it is over the size limit (Options.MaxBytes, or
// else the route's MaxDecodedBytes, which the size gate after it checks),
// when it is a JPEG stored turned (an EXIF orientation of 2 to 8: its
// pixels are turned upright and the tag goes, as not every GP document
// viewer honours it), or when it is a PNG on a route that does not accept
// PNG (then it becomes a JPEG, and its MIME type and file extension change
// with it). A JPEG both turned and over the limit is fitted once, and
// comes out upright. Each change
// is reported with doc.AddChange, its Data holding the Report's figures. Content it cannot
// shrink (text), or cannot fit, is left as it is for the size gate (stage
// sizegate) to refuse, with a warning that says how close fitting came;
// content that does not decode is a problem for attachments[i].content.
type Stage struct {
	fit      *Fitter
	maxBytes int64 // 0: the route's
}

var _ pipeline.AttachmentStage = (*Stage)(nil)

// New returns the stage; zero Options fields take their defaults, and a
// zero MaxBytes means each route's own limit.
func New(opts Options) (*Stage, error) {
	f, err := NewFitter(opts)
	if err != nil {
		return nil, err
	}
	return &Stage{fit: f, maxBytes: opts.MaxBytes}, nil
}

// Name returns "downsample".
func (s *Stage) Name() string { return StageName }

// ProcessAttachment fits doc.Message.Attachments[i]. It returns a
// *conneqt.ValidationError for content that cannot be fitted or decoded,
// ctx's error when cancelled, and wrapped errors for anything else.
func (s *Stage) ProcessAttachment(ctx context.Context, doc *pipeline.Document, i int) error {
	att := doc.Message.Attachments[i]
	limit := s.maxBytes
	if limit <= 0 && doc.Route != nil {
		limit = doc.Route.MaxDecodedBytes() // the size gate's limit
	}
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	kind := sniff(att.Data)
	over := int64(len(att.Data)) > limit
	allows := func(mime string) bool { return doc.Route == nil || doc.Route.AllowsMIME(mime) }
	// A PNG where the route takes JPEG but not PNG is converted. (Where it
	// takes neither, converting cannot help: that is validate's problem.)
	pngNotAllowed := kind == conneqt.MIMEPNG && !allows(conneqt.MIMEPNG) && allows(conneqt.MIMEJPEG)
	// A JPEG stored turned is made upright even when it fits (FitJPEG).
	turned := kind == conneqt.MIMEJPEG && Orientation(att.Data) > 1
	if !over && !pngNotAllowed && !turned {
		return nil
	}
	var (
		out []byte
		rep Report
		err error
	)
	switch kind {
	case conneqt.MIMEJPEG:
		out, rep, err = s.fit.FitJPEG(ctx, att.Data, limit)
	case conneqt.MIMEPNG:
		mode := PNGLosslessThenJPEG
		switch {
		case pngNotAllowed:
			mode = PNGToJPEG
		case !allows(conneqt.MIMEJPEG):
			mode = PNGLosslessOnly
		}
		out, rep, err = s.fit.FitPNG(ctx, att.Data, limit, mode)
	case conneqt.MIMEPDF:
		out, rep, err = s.fit.FitPDF(ctx, att.Data, limit)
	default:
		return nil // nothing to shrink: the size gate after this stage refuses it
	}
	if err != nil {
		var fe *FitError
		switch {
		case errors.As(err, &fe) && errors.Is(err, ErrCannotFit):
			// The size gate refuses it, with the one size message; this
			// says how close fitting came.
			doc.AddWarning(conneqt.Problem{Name: conneqt.AttachmentField(i, "content"), Reason: fe.Reason})
			return nil
		case fe != nil:
			return conneqt.NewValidationError([]conneqt.Problem{{Name: conneqt.AttachmentField(i, "content"), Reason: fe.Reason}})
		}
		return err
	}
	if bytes.Equal(out, att.Data) && rep.OutputMIME == rep.InputMIME {
		return nil
	}
	att.Data = out
	change := pipeline.Change{
		Name:   conneqt.AttachmentField(i, "content"),
		Stage:  StageName,
		Action: "downsampled",
		Before: fmt.Sprintf("%d bytes", rep.OriginalBytes),
		After:  fmt.Sprintf("%d bytes", rep.FinalBytes),
		Detail: describe(rep, limit),
		Data:   rep.Data(),
	}
	if rep.OnlyTurned {
		change.Action = "turned upright"
		change.Before = fmt.Sprintf("EXIF orientation %d", rep.Orientation)
		change.After = "orientation 1"
	}
	changes := []pipeline.Change{change}
	if rep.OutputMIME != rep.InputMIME {
		change.Action = "converted"
		changes[0] = change
		if att.MIMEType != rep.OutputMIME {
			changes = append(changes, pipeline.Change{Name: conneqt.AttachmentField(i, "mimeType"), Stage: StageName,
				Action: "changed", Before: att.MIMEType, After: rep.OutputMIME, Detail: "the image was converted to JPEG"})
			att.MIMEType = rep.OutputMIME
		}
		if att.DetectedMIME != "" {
			att.DetectedMIME = rep.OutputMIME
		}
		if name := jpegName(att.FileName); name != att.FileName {
			changes = append(changes, pipeline.Change{Name: conneqt.AttachmentField(i, "fileName"), Stage: StageName,
				Action: "renamed", Before: att.FileName, After: name, Detail: "extension follows the new JPEG content"})
			att.FileName = name
		}
	}
	doc.AddChange(changes...)
	return nil
}

// describe is the Change's sentence.
func describe(r Report, limit int64) string {
	var b strings.Builder
	switch {
	case r.InputMIME == conneqt.MIMEPNG && r.OutputMIME == conneqt.MIMEJPEG:
		fmt.Fprintf(&b, "PNG converted to JPEG (quality %g)", r.Quality)
	case r.InputMIME == conneqt.MIMEPDF:
		fmt.Fprintf(&b, "PDF optimised")
		if r.ImagesRecompressed > 0 {
			fmt.Fprintf(&b, ", %d images recompressed", r.ImagesRecompressed)
		}
	case r.Lossless:
		fmt.Fprintf(&b, "JPEG with EXIF orientation %d (%s) turned upright losslessly: blocks moved in the DCT domain, every quantisation step kept, no EXIF",
			r.Orientation, orientationName(r.Orientation))
		fmt.Fprintf(&b, ": %d -> %d bytes (limit %d)", r.OriginalBytes, r.FinalBytes, limit)
		return b.String()
	case r.OnlyTurned:
		fmt.Fprintf(&b, "JPEG with EXIF orientation %d (%s) turned upright by re-encoding its pixels at quality %g (not lossless: %s), no EXIF",
			r.Orientation, orientationName(r.Orientation), r.Quality, r.LossyReason)
		fmt.Fprintf(&b, ": %d -> %d bytes (limit %d)", r.OriginalBytes, r.FinalBytes, limit)
		return b.String()
	case r.Transcoded:
		fmt.Fprintf(&b, "JPEG re-quantised to quality %g without decoding its pixels", r.Quality)
	case r.Quality > 0:
		fmt.Fprintf(&b, "JPEG re-encoded at quality %g", r.Quality)
	default:
		b.WriteString("PNG recompressed losslessly")
	}
	if r.OriginalWidth > 0 && (r.FinalWidth != r.OriginalWidth || r.FinalHeight != r.OriginalHeight) {
		fmt.Fprintf(&b, ", resized from %dx%d to %dx%d", r.OriginalWidth, r.OriginalHeight, r.FinalWidth, r.FinalHeight)
	}
	if r.Orientation > 1 {
		fmt.Fprintf(&b, ", turned upright (EXIF orientation %d)", r.Orientation)
	}
	if r.Flattened {
		b.WriteString(", transparent areas flattened on white")
	}
	fmt.Fprintf(&b, ": %d -> %d bytes (limit %d)", r.OriginalBytes, r.FinalBytes, limit)
	return b.String()
}

// jpegName gives a file name the .jpg extension.
func jpegName(name string) string {
	if name == "" {
		return name
	}
	ext := path.Ext(name)
	switch strings.ToLower(ext) {
	case ".jpg", ".jpeg":
		return name
	case ".png":
		return strings.TrimSuffix(name, ext) + ".jpg"
	}
	return name + ".jpg"
}

// sniff identifies JPEG, PNG and PDF by their signatures (a PDF header may
// follow up to 1024 bytes of junk, as readers allow); "" otherwise.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return conneqt.MIMEJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return conneqt.MIMEPNG
	case bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")):
		return conneqt.MIMEPDF
	}
	return ""
}
