package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/winname"
)

// extensions lists the extensions that suit each attachment type,
// preferred first.
var extensions = map[string][]string{
	conneqt.MIMEPDF:  {".pdf"},
	conneqt.MIMEJPEG: {".jpg", ".jpeg", ".jpe", ".jfif"},
	conneqt.MIMEPNG:  {".png"},
	conneqt.MIMEText: {".txt"},
}

// typedExtensions are extensions of well-known types: on a file of another
// type they are wrong, not merely unusual.
var typedExtensions = []string{
	".pdf", ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".webp",
	".doc", ".docx", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx", ".htm", ".html", ".xhtml", ".svg",
	".zip", ".exe", ".dll", ".bat", ".cmd", ".js", ".msg", ".eml", ".txt",
}

// Extensions lists the file extensions that suit an attachment of type
// mime, preferred first; nil for a type that needs none (consultation
// notes) or that gpdoc does not send.
func Extensions(mime string) []string { return slices.Clone(extensions[mime]) }

type extStatus int

const (
	extOK extStatus = iota
	extMissing
	extWrong
)

// extensionStatus says whether name's extension suits mime and, if not,
// which extension should replace or join it.
func extensionStatus(name, mime string) (extStatus, string) {
	exts := extensions[mime]
	if len(exts) == 0 {
		return extOK, ""
	}
	_, ext := winname.SplitExt(name)
	ext = strings.ToLower(ext)
	switch {
	case slices.Contains(exts, ext):
		return extOK, ""
	case ext == "":
		return extMissing, exts[0]
	case slices.Contains(typedExtensions, ext):
		return extWrong, exts[0]
	case mime == conneqt.MIMEText:
		return extOK, "" // .csv, .xml, .srt, .log...: text is text
	}
	return extMissing, exts[0] // "scan.2026" gains ".pdf"
}

// FixFileName returns the name the sanitise stage gives an attachment of
// type mime (its detected type): a valid Windows file name (see
// winname.Sanitise) whose extension suits mime, replaced when it names
// another type ("photo.pdf" for a JPEG becomes "photo.jpg") and added when
// missing. Consultation notes, which are imported as text and not as a
// file, only get a valid name.
func FixFileName(name, mime string) string {
	n := winname.Sanitise(name)
	switch st, want := extensionStatus(n, mime); st {
	case extWrong:
		n = winname.WithExt(n, want, true)
	case extMissing:
		n = winname.WithExt(n, want, false)
	}
	return winname.Sanitise(n)
}

func checkExtension(i int, name, mime string, r *report) {
	if !winname.Valid(name) {
		return // reported as an invalid name
	}
	_, ext := winname.SplitExt(name)
	switch st, want := extensionStatus(name, mime); st {
	case extWrong:
		r.problem(conneqt.AttachmentField(i, "fileName"), fmt.Sprintf("extension %s does not match the content (%s): use %s", ext, mime, want), clip(name))
	case extMissing:
		r.warn(conneqt.AttachmentField(i, "fileName"), fmt.Sprintf("has no extension for its type (%s): add %s so the practice can open it", mime, want), clip(name))
	}
}

// checkNames checks that every file name is a valid Windows file name and
// that names are unique within the message. The check phase's sanitise
// stage fixes all of that, so only CheckMessage reports it.
func checkNames(msg *conneqt.Message, opts Options, r *report) {
	if !opts.exact {
		return
	}
	first := map[string]int{}
	for i, a := range msg.Attachments {
		if a == nil {
			continue
		}
		field := conneqt.AttachmentField(i, "fileName")
		for _, err := range winname.Check(a.FileName) {
			r.problem(field, "must be a valid Windows file name: "+err.Error(), clip(a.FileName))
		}
		if a.FileName == "" {
			continue
		}
		key := winname.Key(a.FileName)
		if j, dup := first[key]; dup {
			r.problem(field, fmt.Sprintf("same name as attachments[%d]: names must be unique within a message (Windows ignores case)", j), clip(a.FileName))
			continue
		}
		first[key] = i
	}
}
