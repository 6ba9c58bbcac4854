package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gabriel-vasile/mimetype"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
	"github.com/gpdoc/gpdoc/internal/textnorm"
	"github.com/gpdoc/gpdoc/pipeline"
)

// eicar is the anti-virus test string; the service's scanner refuses any
// attachment that starts with it.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// refusedText are types mimetype files under text/plain that must not pass
// as plain text: markup a viewer would render, with scripts and links.
var refusedText = []string{"text/html", "image/svg+xml", "application/xhtml+xml", "text/rtf", "application/rtf"}

// Detect returns the type of data as sniffed from its bytes
// (gabriel-vasile/mimetype), folded onto the types the API names:
// application/pdf, image/jpeg, image/png, or text/plain for plain text in
// any encoding mimetype recognises and for text formats that are inert as
// plain text (CSV, JSON, XML). HTML, SVG and RTF are not plain text and are
// returned as themselves, as is anything else, without parameters. Empty
// input is "application/x-empty".
//
// declaredPDF allows a PDF header up to 1024 bytes into the file (Acrobat's
// tolerance), which mimetype does not see.
func Detect(data []byte, declaredPDF bool) string {
	if len(data) == 0 {
		return "application/x-empty"
	}
	m := mimetype.Detect(data)
	switch {
	case m.Is(conneqt.MIMEPDF):
		return conneqt.MIMEPDF
	case m.Is(conneqt.MIMEJPEG):
		return conneqt.MIMEJPEG
	case m.Is(conneqt.MIMEPNG):
		return conneqt.MIMEPNG
	case declaredPDF && bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")):
		return conneqt.MIMEPDF
	}
	if plainText(m) {
		return conneqt.MIMEText
	}
	t, _, _ := strings.Cut(m.String(), ";")
	return t
}

func plainText(m *mimetype.MIME) bool {
	for p := m; p != nil; p = p.Parent() {
		for _, r := range refusedText {
			if p.Is(r) {
				return false
			}
		}
		if p.Is(conneqt.MIMEText) {
			return true
		}
	}
	return false
}

// agrees reports whether content detected as detected may be sent declared
// as declared.
func agrees(declared, detected string) bool {
	switch declared {
	case conneqt.MIMEText, conneqt.MIMEConsultation:
		return detected == conneqt.MIMEText
	}
	return declared == detected
}

// checkAttachment checks attachment i and returns its detected type.
func checkAttachment(route *conneqt.Route, i int, att *conneqt.Attachment, opts Options, r *report) (detected string) {
	content := conneqt.AttachmentField(i, "content")
	mimeField := conneqt.AttachmentField(i, "mimeType")
	declared := att.MIMEType
	switch {
	case declared == "":
		r.problem(mimeField, "required: "+quoteList(route.AttachmentMIMETypes), "")
	case !route.AllowsMIME(declared):
		if declared == conneqt.MIMEPNG && !opts.exact && route.AllowsMIME(conneqt.MIMEJPEG) {
			r.warn(mimeField, "PNG is not accepted on the "+string(route.Name)+" route: the downsample stage converts it to JPEG", declared)
		} else {
			r.problem(mimeField, "must be "+quoteList(route.AttachmentMIMETypes)+" on the "+string(route.Name)+" route", clip(declared))
		}
	}
	data := att.Data
	if len(data) == 0 {
		r.problem(content, "the file is empty", "")
		return "application/x-empty"
	}
	if bytes.HasPrefix(data, []byte(eicar)) {
		r.problem(content, "is the EICAR anti-virus test file: the service's virus scan refuses it (406), and it must never be resent", "")
		return Detect(data, false)
	}
	isText := declared == conneqt.MIMEText || declared == conneqt.MIMEConsultation
	detected = Detect(data, declared == conneqt.MIMEPDF)
	switch {
	case isText && detected == conneqt.MIMEText:
		text := checkText(data, opts, content, r)
		if text == nil {
			return detected // the text problem says it all
		}
		detected = Detect(text, false)
	case isText && detected == "application/octet-stream" && !opts.exact:
		// BOM-less UTF-16 sniffs as binary; the sanitise stage converts it.
		if res, err := textnorm.Normalise(data); err == nil && len(res.Text) > 0 {
			detected = Detect(res.Text, false)
		}
	}
	// The size limit is checked once, by the size gate after downsample
	// (conneqt.Route.CheckAttachmentSize); CheckMessage runs the same gate.
	sizeProblem, fits := route.CheckAttachmentSize(i, int64(len(data)))
	oversize := !fits
	if opts.exact && oversize {
		r.problem(sizeProblem.Name, sizeProblem.Reason, "")
	}
	if declared != "" && !agrees(declared, detected) {
		r.problem(mimeField, mismatch(declared, detected), declared)
		return detected
	}
	switch detected {
	case conneqt.MIMEPDF:
		checkPDF(data, opts, content, r)
	case conneqt.MIMEJPEG, conneqt.MIMEPNG:
		// An oversize photo is decoded in full by the downsample stage (to
		// fit it), which reports one that does not decode: decoding it here
		// as well would double the most expensive step of a photo. (So is
		// one stored sideways: checkImage reads its orientation.)
		fullDecode := opts.exact || !(oversize && detected == conneqt.MIMEJPEG)
		checkImage(data, detected, opts, content, r, fullDecode)
	}
	if opts.exact && declared != conneqt.MIMEConsultation {
		checkExtension(i, att.FileName, detected, r)
	}
	return detected
}

func mismatch(declared, detected string) string {
	what := detected
	switch detected {
	case "application/octet-stream":
		what = "not a type gpdoc recognises (binary data?)"
	case "text/html":
		what = "HTML (text/html), which must not be sent as text"
	}
	return fmt.Sprintf("declared %s but the content is %s", declared, what)
}

// checkText checks a text attachment and returns its text as it will be
// sent (converted when the sanitise stage will convert it), or nil.
func checkText(data []byte, opts Options, content string, r *report) []byte {
	if opts.exact {
		if err := textnorm.CheckUTF8(data); err != nil {
			r.problem(content, "must be UTF-8 text: "+err.Error(), "")
			return nil
		}
		return data
	}
	res, err := textnorm.Normalise(data)
	switch {
	case errors.Is(err, textnorm.ErrEncoding):
		r.problem(content, fmt.Sprintf("%v: %v; save the file as UTF-8", pipeline.ErrUnsupported, err), "")
		return nil
	case err != nil:
		r.problem(content, "is not valid text: "+err.Error(), "")
		return nil
	case len(res.Text) == 0:
		r.problem(content, "holds no text once control characters are removed", "")
		return nil
	}
	return res.Text
}

func checkPDF(data []byte, opts Options, content string, r *report) {
	ctx := r.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	doc, err := pdfdoc.OpenContext(ctx, data, opts.maxPixels(), nil)
	switch {
	case errors.Is(err, pdfdoc.ErrStreamsTooLarge) || errors.Is(err, budget.ErrOverBudget):
		r.problem(content, fmt.Sprintf("%v: %v", pipeline.ErrTooLarge, err), "")
		return
	case errors.Is(err, pdfdoc.ErrEncrypted):
		r.problem(content, err.Error()+": send a copy without a password", "")
		return
	case errors.Is(err, pdfdoc.ErrImageTooLarge):
		r.problem(content, err.Error(), "")
		return
	case err != nil:
		r.problem(content, "is not a readable PDF: "+err.Error(), "")
		return
	}
	r.parsed = pdfdoc.NewParsed(data, opts.maxPixels(), doc)
	if doc.Encrypted {
		r.warn(content, "is encrypted without a password (permissions only): it opens, but the practice may not be able to annotate or print it", "")
	}
	found := pdfdoc.FindActive(doc.Ctx)
	if len(found) == 0 {
		return
	}
	list := make([]string, len(found))
	for i, f := range found {
		list[i] = f.String()
	}
	switch {
	case doc.Encrypted:
		r.problem(content, "has active content ("+strings.Join(list, "; ")+") and is encrypted, so it cannot be sanitised: send an unprotected copy", "")
	case opts.exact:
		r.problem(content, "has active content the service's virus scan rejects ("+strings.Join(list, "; ")+"); the sanitise stage removes it", "")
	}
}
