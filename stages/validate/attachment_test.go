package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/pipeline"
)

func TestAttachments(t *testing.T) {
	jpg, pngData, pdf := testJPEG(t), testPNG(t), examplePDF(t)
	att := func(name, mime string, data []byte) *conneqt.Attachment {
		return &conneqt.Attachment{FileName: name, MIMEType: mime, Data: data}
	}
	const c0, m0, f0 = "attachments[0].content", "attachments[0].mimeType", "attachments[0].fileName"
	tests := []struct {
		name  string
		route conneqt.RouteName
		atts  []*conneqt.Attachment
		opts  Options
		// input checks the attachments as gpdoc's input, with the Stage
		// (what the check phase's sanitise stage fixes is left to it),
		// instead of exactly, with CheckMessage.
		input bool
		// limit, when > 0, is the route's per-attachment limit.
		limit    int64
		problems []conneqt.Problem
		warnings []conneqt.Problem
		// prefix compares only the start of the one problem's reason.
		prefix bool
	}{
		{name: "PDF", atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, pdf)}},
		{name: "JPEG", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg)}},
		{name: "JPEG .jpeg", atts: []*conneqt.Attachment{att("photo.JPEG", conneqt.MIMEJPEG, jpg)}},
		{name: "PNG on standard", atts: []*conneqt.Attachment{att("scan.png", conneqt.MIMEPNG, pngData)}},
		{name: "text", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("Chest clear.\r\n"))}},
		{name: "consultation without extension", atts: []*conneqt.Attachment{att("Consultation notes", conneqt.MIMEConsultation, []byte("History: cough."))}},
		{name: "CSV as text", atts: []*conneqt.Attachment{att("readings.csv", conneqt.MIMEText, []byte("time,systolic\n09:00,140\n10:00,135\n"))}},
		{name: "empty file", atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, []byte{})},
			problems: []conneqt.Problem{p(c0, "the file is empty", "")}},
		{name: "MIME type missing", atts: []*conneqt.Attachment{att("letter.pdf", "", pdf)},
			problems: []conneqt.Problem{p(m0, "required: 'application/pdf', 'image/jpeg', 'image/png', 'text/plain' or 'text/vnd.qxlva.conneqt.consultation'", "")}},
		{name: "GIF declared", route: conneqt.Instant, atts: []*conneqt.Attachment{att("a.gif", "image/gif", []byte("GIF89a...."))},
			problems: []conneqt.Problem{
				p(m0, "must be 'application/pdf', 'image/jpeg', 'text/plain' or 'text/vnd.qxlva.conneqt.consultation' on the instant route", "image/gif"),
			}},
		{name: "UTF-16 without BOM sanitised", input: true, atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("h\x00e\x00l\x00l\x00o\x00"))}},
		{name: "UTF-16 without BOM strict", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("h\x00e\x00l\x00l\x00o\x00"))},
			problems: []conneqt.Problem{p(m0, "declared text/plain but the content is not a type gpdoc recognises (binary data?)", "text/plain")}},
		{name: "PNG on instant", route: conneqt.Instant, atts: []*conneqt.Attachment{att("scan.png", conneqt.MIMEPNG, pngData)},
			problems: []conneqt.Problem{p(m0, "must be 'application/pdf', 'image/jpeg', 'text/plain' or 'text/vnd.qxlva.conneqt.consultation' on the instant route", "image/png")}},
		{name: "PNG on instant before downsample", route: conneqt.Instant, input: true, atts: []*conneqt.Attachment{att("scan.png", conneqt.MIMEPNG, pngData)},
			warnings: []conneqt.Problem{p(m0, "PNG is not accepted on the instant route: the downsample stage converts it to JPEG", "image/png")}},
		{name: "PDF only on gpconnect", route: conneqt.GPConnect, atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg)},
			problems: []conneqt.Problem{p(m0, "must be 'application/pdf' on the gpconnect route", "image/jpeg")}},
		{name: "JPEG declared as PDF", atts: []*conneqt.Attachment{att("photo.pdf", conneqt.MIMEPDF, jpg)},
			problems: []conneqt.Problem{p(m0, "declared application/pdf but the content is image/jpeg", "application/pdf")}},
		{name: "PNG declared as JPEG", atts: []*conneqt.Attachment{att("scan.jpg", conneqt.MIMEJPEG, pngData)},
			problems: []conneqt.Problem{p(m0, "declared image/jpeg but the content is image/png", "image/jpeg")}},
		{name: "HTML declared as text", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("<html><body><script>alert(1)</script></body></html>"))},
			problems: []conneqt.Problem{p(m0, "declared text/plain but the content is HTML (text/html), which must not be sent as text", "text/plain")}},
		{name: "binary declared as text", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte{0x00, 0x01, 0x02, 0x03})}, input: true,
			problems: []conneqt.Problem{p(m0, "declared text/plain but the content is not a type gpdoc recognises (binary data?)", "text/plain")}},
		{name: "too large", limit: 10, atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("twenty bytes of text"))},
			problems: []conneqt.Problem{p(c0, "too large: 20 bytes (28 in Base64), more than the 10 bytes the standard route accepts per attachment; send at most 10 bytes (a smaller file, or an image or PDF gpdoc can downsample)", "")}},
		// As input, size is left to the size gate after downsample.
		{name: "photo too large as input", input: true, limit: 100, atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg)}},
		{name: "text too large as input", input: true, limit: 10, atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("twenty bytes of text"))}},
		{name: "EICAR", atts: []*conneqt.Attachment{att("eicar.txt", conneqt.MIMEText, []byte(eicar))},
			problems: []conneqt.Problem{p(c0, "is the EICAR anti-virus test file: the service's virus scan refuses it (406), and it must never be resent", "")}},
		// text encodings
		{name: "Windows-1252 strict", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("caf\xe9"))},
			problems: []conneqt.Problem{p(c0, "must be UTF-8 text: not valid UTF-8 (first invalid byte at offset 3)", "")}},
		{name: "Windows-1252 sanitised", input: true, atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("caf\xe9"))}},
		{name: "UTF-16 strict", atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEConsultation, []byte("\xff\xfeh\x00i\x00"))},
			problems: []conneqt.Problem{p(c0, "must be UTF-8 text: not valid UTF-8 (first invalid byte at offset 0)", "")}},
		{name: "UTF-16 sanitised", input: true, atts: []*conneqt.Attachment{att("note", conneqt.MIMEConsultation, []byte("\xff\xfeh\x00i\x00"))}},
		{name: "Shift_JIS sanitised", input: true, atts: []*conneqt.Attachment{att("note.txt", conneqt.MIMEText, []byte("\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd"))},
			problems: []conneqt.Problem{p(c0, "unsupported: text encoding cannot be determined unambiguously", "")}, prefix: true},
		// file names
		{name: "reserved device name", atts: []*conneqt.Attachment{att("CON.pdf", conneqt.MIMEPDF, pdf)},
			problems: []conneqt.Problem{p(f0, "must be a valid Windows file name: is a name Windows reserves for a device (CON)", "CON.pdf")}},
		{name: "reserved characters and trailing dot", atts: []*conneqt.Attachment{att("a<b>.pdf.", conneqt.MIMEPDF, pdf)},
			problems: []conneqt.Problem{
				p(f0, "must be a valid Windows file name: contains a character Windows does not allow (< > : \" / \\ | ? *): < >", "a<b>.pdf."),
				p(f0, "must be a valid Windows file name: starts or ends with whitespace or a period", "a<b>.pdf."),
			}},
		{name: "file name empty", atts: []*conneqt.Attachment{att("", conneqt.MIMEPDF, pdf)},
			problems: []conneqt.Problem{p(f0, "must be a valid Windows file name: is empty", "")}},
		{name: "bad names fixed by sanitise", input: true, atts: []*conneqt.Attachment{att(" CON?.pdf. ", conneqt.MIMEPDF, pdf), att("con_.pdf", conneqt.MIMEPDF, pdf)}},
		{name: "duplicate names", atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, pdf), att("Letter.PDF", conneqt.MIMEPDF, pdf)},
			problems: []conneqt.Problem{p("attachments[1].fileName", "same name as attachments[0]: names must be unique within a message (Windows ignores case)", "Letter.PDF")}},
		{name: "wrong extension", atts: []*conneqt.Attachment{att("photo.png", conneqt.MIMEJPEG, jpg)},
			problems: []conneqt.Problem{p(f0, "extension .png does not match the content (image/jpeg): use .jpg", "photo.png")}},
		{name: "missing extension", atts: []*conneqt.Attachment{att("photo", conneqt.MIMEJPEG, jpg)},
			warnings: []conneqt.Problem{p(f0, "has no extension for its type (image/jpeg): add .jpg so the practice can open it", "photo")}},
		{name: "extension fixed by sanitise", input: true, atts: []*conneqt.Attachment{att("photo.png", conneqt.MIMEJPEG, jpg)}},
		// structure
		{name: "PDF cut short", atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, pdf[:len(pdf)/2])},
			problems: []conneqt.Problem{p(c0, "is not a readable PDF: PDF does not parse: no %%EOF marker at the end (the file is cut short or has data appended)", "")}},
		{name: "PDF with JavaScript strict", atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, jsPDF(t))},
			problems: []conneqt.Problem{p(c0, "has active content the service's virus scan rejects (JavaScript action (document OpenAction)); the sanitise stage removes it", "")}},
		{name: "PDF with JavaScript before sanitise", input: true, atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, jsPDF(t))}},
		{name: "PDF with a password", input: true, atts: []*conneqt.Attachment{att("letter.pdf", conneqt.MIMEPDF, encryptedPDF(t))},
			problems: []conneqt.Problem{p(c0, "PDF is encrypted: it needs a password to open: send a copy without a password", "")}},
		{name: "JPEG pixel bomb", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, patchSOF(t, jpg, 0xC0, 65535, 65535))},
			problems: []conneqt.Problem{p(c0, "too large: declares 65535×65535 = 4294836225 pixels, more than the budget of 100000000; refused before decoding (a decompression bomb?)", "")}},
		{name: "JPEG over a small budget", opts: Options{MaxPixels: 1000}, atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg)},
			problems: []conneqt.Problem{p(c0, "too large: declares 40×30 = 1200 pixels, more than the budget of 1000; refused before decoding (a decompression bomb?)", "")}},
		{name: "JPEG zero height", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, patchSOF(t, jpg, 0xC0, 40, 0))},
			problems: []conneqt.Problem{p(c0, "declares an empty image (40×0 pixels)", "")}},
		{name: "lossless JPEG", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, patchSOF(t, jpg, 0xC3, 40, 30))},
			problems: []conneqt.Problem{p(c0, "unsupported: lossless JPEG (SOF3), which gpdoc cannot decode; save it as a baseline or progressive JPEG", "")}},
		{name: "JPEG cut short", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg[:len(jpg)-20])},
			problems: []conneqt.Problem{p(c0, "is damaged: does not decode", "")}, prefix: true},
		// A JPEG stored sideways is decoded in full by downsample, to turn
		// it upright: as gpdoc's input, its scan is left to that decode.
		{name: "sideways JPEG cut short", atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, sideways(jpg[:len(jpg)-20]))},
			problems: []conneqt.Problem{p(c0, "is damaged: does not decode", "")}, prefix: true},
		{name: "sideways JPEG cut short as input", input: true, atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, sideways(jpg[:len(jpg)-20]))}},
		{name: "upright JPEG cut short as input", input: true, atts: []*conneqt.Attachment{att("photo.jpg", conneqt.MIMEJPEG, jpg[:len(jpg)-20])},
			problems: []conneqt.Problem{p(c0, "is damaged: does not decode", "")}, prefix: true},
		{name: "PNG with a bad CRC", atts: []*conneqt.Attachment{att("scan.png", conneqt.MIMEPNG, flipByte(pngData, bytes.Index(pngData, []byte("IDAT"))+10))},
			problems: []conneqt.Problem{p(c0, "is not a valid PNG: chunk \"IDAT\" has a bad CRC", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route := tt.route
			if route == "" {
				route = conneqt.Standard
			}
			m := baseMessage(route, tt.atts...)
			opts := tt.opts
			opts.Now = fixedNow
			r := conneqt.MustRoute(route)
			if tt.limit > 0 {
				r = r.Clone()
				r.MaxAttachmentBytes = tt.limit
			}
			var problems, warnings []conneqt.Problem
			if tt.input {
				problems, warnings = checkInput(t, r, m, opts)
			} else {
				problems, warnings = CheckMessage(r, m, opts)
			}
			if tt.prefix && len(problems) == 1 && len(tt.problems) == 1 && strings.HasPrefix(problems[0].Reason, tt.problems[0].Reason) {
				problems[0].Reason = tt.problems[0].Reason
			}
			diff(t, "problems", problems, tt.problems)
			diff(t, "warnings", warnings, tt.warnings)
			for _, a := range m.Attachments {
				if a.DetectedMIME != "" && !tt.input {
					t.Error("CheckMessage changed the message")
				}
			}
		})
	}
}

// checkInput runs the Stage alone on m, as the Runner would, and returns
// its problems and warnings.
func checkInput(t *testing.T, route *conneqt.Route, m *conneqt.Message, opts Options) (problems, warnings []conneqt.Problem) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	doc := &pipeline.Document{Route: route, Message: m}
	err = (&pipeline.Runner{Stages: pipeline.Pipeline{s}}).Process(context.Background(), doc)
	if err != nil && !errors.Is(err, conneqt.ErrInvalid) {
		t.Fatal(err)
	}
	return doc.Problems(), doc.Warnings()
}

// sideways returns jpg with an EXIF segment saying it is stored turned
// (orientation 6) after its SOI.
func sideways(jpg []byte) []byte {
	out := append([]byte{0xFF, 0xD8}, segment.OrientationSegment(6)...)
	return append(out, jpg[2:]...)
}

func flipByte(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0xFF
	return c
}

func TestDetect(t *testing.T) {
	tests := []struct {
		in          []byte
		declaredPDF bool
		want        string
	}{
		{nil, false, "application/x-empty"},
		{[]byte("%PDF-1.7\n"), false, conneqt.MIMEPDF},
		{[]byte("junk before\n%PDF-1.7\n"), false, conneqt.MIMEPDF},
		{[]byte(strings.Repeat("junk ", 150) + "\n%PDF-1.7\n"), true, conneqt.MIMEPDF},
		{[]byte(strings.Repeat("junk ", 300) + "\n%PDF-1.7\n"), true, conneqt.MIMEText},
		{[]byte("%PD"), false, conneqt.MIMEText},
		{[]byte("{\"a\": 1}"), false, conneqt.MIMEText},
		{[]byte("<?xml version=\"1.0\"?><a/>"), false, conneqt.MIMEText},
		{[]byte("<html><body>x"), false, "text/html"},
		{[]byte("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"), false, "image/svg+xml"},
		{[]byte("{\\rtf1 hello}"), false, "text/rtf"},
		{[]byte("\xff\xfeh\x00i\x00"), false, conneqt.MIMEText},
		{[]byte("PK\x03\x04"), false, "application/zip"},
	}
	for _, tt := range tests {
		if got := Detect(tt.in, tt.declaredPDF); got != tt.want {
			t.Errorf("Detect(%q, %v) = %q, want %q", tt.in, tt.declaredPDF, got, tt.want)
		}
	}
}

func TestFixFileName(t *testing.T) {
	tests := []struct{ name, mime, want string }{
		{"letter.pdf", conneqt.MIMEPDF, "letter.pdf"},
		{"photo.pdf", conneqt.MIMEJPEG, "photo.jpg"},
		{"photo.JPEG", conneqt.MIMEJPEG, "photo.JPEG"},
		{"scan", conneqt.MIMEPDF, "scan.pdf"},
		{"Smith 12.03.2026", conneqt.MIMEPDF, "Smith 12.03.2026.pdf"},
		{"notes.xml", conneqt.MIMEText, "notes.xml"},
		{"notes.doc", conneqt.MIMEText, "notes.txt"},
		{"notes", conneqt.MIMEText, "notes.txt"},
		{" CON.pdf ", conneqt.MIMEPDF, "CON_.pdf"},
		{"Consultation notes", conneqt.MIMEConsultation, "Consultation notes"},
		{"a:b", conneqt.MIMEConsultation, "a_b"},
		{"", conneqt.MIMEPDF, "attachment.pdf"},
		{"x.zip", "application/zip", "x.zip"},
	}
	for _, tt := range tests {
		if got := FixFileName(tt.name, tt.mime); got != tt.want {
			t.Errorf("FixFileName(%q, %s) = %q, want %q", tt.name, tt.mime, got, tt.want)
		}
	}
	if got := Extensions(conneqt.MIMEJPEG); got[0] != ".jpg" {
		t.Errorf("Extensions(jpeg) = %v", got)
	}
	if Extensions(conneqt.MIMEConsultation) != nil {
		t.Error("consultation notes need no extension")
	}
}

func TestNew(t *testing.T) {
	for _, o := range []Options{{MaxPixels: -1}, {Topics: []string{""}}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) = nil error", o)
		}
	}
	s, err := New(Options{})
	if err != nil || s.Name() != "validate" || !s.CollectsProblems() {
		t.Fatalf("New: %v %v", s, err)
	}
}

// reportAdder stands in for the render stage: a later stage that adds one
// attachment to a document with consultation data.
type reportAdder struct{}

func (reportAdder) Name() string                                             { return "render" }
func (reportAdder) ProcessMessage(context.Context, *pipeline.Document) error { return nil }
func (reportAdder) AttachmentsAdded(doc *pipeline.Document) int {
	if doc.Consultation != nil {
		return 1
	}
	return 0
}

// TestStage runs the stage through the Runner: the attachment a later stage
// will add counts (the Runner says so, Document.AttachmentsToCome), detected
// types are recorded, and problems and warnings of both parts are
// collected.
func TestStage(t *testing.T) {
	s, err := New(Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{s, reportAdder{}}}
	tests := []struct {
		name     string
		route    conneqt.RouteName
		atts     []*conneqt.Attachment
		consult  bool
		problems []string
	}{
		{name: "gpconnect report only", route: conneqt.GPConnect, consult: true},
		{name: "gpconnect report and a PDF", route: conneqt.GPConnect, consult: true, atts: []*conneqt.Attachment{pdfAttachment(t)},
			problems: []string{"attachments: the gpconnect route takes exactly 1 attachment(s) (got \"2\")"}},
		{name: "gpconnect nothing", route: conneqt.GPConnect,
			problems: []string{"attachments: the gpconnect route takes exactly 1 attachment(s) (got \"0\")"}},
		{name: "standard with JPEG named .pdf and bad NHS number", route: conneqt.Standard,
			atts: []*conneqt.Attachment{{FileName: "photo.pdf", MIMEType: conneqt.MIMEPDF, Data: testJPEG(t)}},
			problems: []string{
				"attachments[0].mimeType: declared application/pdf but the content is image/jpeg (got \"application/pdf\")",
				"subject.id.value: not a valid NHS number: the Modulus 11 check digit is wrong (got \"943***5918\")",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseMessage(tt.route, tt.atts...)
			if strings.Contains(tt.name, "NHS") {
				m.Subject.ID.Value = "9434765918"
			}
			doc := &pipeline.Document{Route: conneqt.MustRoute(tt.route), Message: m}
			if tt.consult {
				doc.Consultation = json.RawMessage(`{"version":1}`)
			}
			err := r.Process(context.Background(), doc)
			var got []string
			for _, p := range doc.Problems() {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.problems, "\n"))
			}
			if (err != nil) != (len(tt.problems) > 0) || (err != nil && !errors.Is(err, conneqt.ErrInvalid)) {
				t.Errorf("Process error = %v", err)
			}
			for _, a := range m.Attachments {
				if a.DetectedMIME == "" {
					t.Errorf("%s: DetectedMIME not recorded", a.FileName)
				}
			}
		})
	}
}
