package sanitise_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/internal/pdfcpusetup"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/validate"
)

func examplePDF(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "discharge-letter.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleJPEG(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "wound-photo.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withEXIF inserts an EXIF segment with an orientation and a GPS tag.
func withEXIF(jpg []byte, orientation uint16) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x02")
	entry := func(tag, typ uint16, count uint32, val []byte) []byte {
		e := make([]byte, 12)
		binary.BigEndian.PutUint16(e, tag)
		binary.BigEndian.PutUint16(e[2:], typ)
		binary.BigEndian.PutUint32(e[4:], count)
		copy(e[8:], val)
		return e
	}
	tiff = append(tiff, entry(0x0112, 3, 1, []byte{0, byte(orientation)})...)
	tiff = append(tiff, entry(0x8825, 4, 1, []byte{0, 0, 0, 0})...) // GPS IFD pointer
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, "GPS 51.4545N 2.5879W"...)
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func jsPDF(t testing.TB) []byte {
	pdfcpusetup.Do()
	ctx, err := api.ReadContext(bytes.NewReader(examplePDF(t)), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	root, err := ctx.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	root["OpenAction"] = types.Dict{"S": types.Name("JavaScript"), "JS": types.StringLiteral("app.alert('x')")}
	root["AA"] = types.Dict{"WC": types.Dict{"S": types.Name("JavaScript"), "JS": types.StringLiteral("1")}}
	var b bytes.Buffer
	if err := api.WriteContext(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newDoc(atts ...*conneqt.Attachment) *pipeline.Document {
	return &pipeline.Document{
		Route: conneqt.MustRoute(conneqt.Standard),
		Message: &conneqt.Message{
			MessageID: "869c3439-fcb8-4546-b372-2af2bf54e197", Type: "ToolbarMessage", Topic: "Health",
			Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001", Type: conneqt.IDOcsClient}},
			Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "943 476 5919", Type: conneqt.IDVerifiedNHSNumber}},
			Body:        &conneqt.Body{MIMEType: conneqt.MIMEText, Content: "Letter"},
			Attachments: atts,
		},
	}
}

func runner(t testing.TB) *pipeline.Runner {
	v, err := validate.New(validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sanitise.New(sanitise.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline.Runner{Stages: pipeline.Pipeline{v, s}}
}

func TestNames(t *testing.T) {
	jpg := exampleJPEG(t)
	pdf := examplePDF(t)
	for run := 0; run < 20; run++ { // the result must not depend on goroutine order
		doc := newDoc(
			&conneqt.Attachment{FileName: " CON.pdf ", MIMEType: conneqt.MIMEPDF, Data: pdf},
			&conneqt.Attachment{FileName: "con_.PDF", MIMEType: conneqt.MIMEPDF, Data: pdf},
			&conneqt.Attachment{FileName: "photo.pdf", MIMEType: conneqt.MIMEJPEG, Data: jpg},
			&conneqt.Attachment{FileName: "Photo.jpg", MIMEType: conneqt.MIMEJPEG, Data: jpg},
			&conneqt.Attachment{FileName: "notes", MIMEType: conneqt.MIMEConsultation, Data: []byte("History")},
		)
		if err := runner(t).Process(context.Background(), doc); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range doc.Message.Attachments {
			names = append(names, a.FileName)
		}
		want := []string{"CON_.pdf", "con_ (2).PDF", "photo.jpg", "Photo (2).jpg", "notes"}
		if strings.Join(names, "|") != strings.Join(want, "|") {
			t.Fatalf("run %d: names %q, want %q", run, names, want)
		}
		if doc.Message.Subject.ID.Value != "9434765919" {
			t.Fatalf("NHS number not normalised: %q", doc.Message.Subject.ID.Value)
		}
		var renames []string
		for _, c := range doc.Changes() {
			if c.Action == "renamed" {
				renames = append(renames, c.Name+": "+c.Before+" -> "+c.After+" ("+c.Detail+")")
			}
			if strings.Contains(c.Before+c.After, "9434765919") {
				t.Fatalf("full NHS number in a change: %+v", c)
			}
		}
		wantRenames := []string{
			"attachments[0].fileName:  CON.pdf  -> CON_.pdf (not a valid Windows file name)",
			"attachments[1].fileName: con_.PDF -> con_ (2).PDF (another attachment has the same name)",
			"attachments[2].fileName: photo.pdf -> photo.jpg (extension missing or not matching the content)",
			"attachments[3].fileName: Photo.jpg -> Photo (2).jpg (another attachment has the same name)",
		}
		if strings.Join(renames, "\n") != strings.Join(wantRenames, "\n") {
			t.Fatalf("renames:\n%s\nwant:\n%s", strings.Join(renames, "\n"), strings.Join(wantRenames, "\n"))
		}
	}
}

func TestContent(t *testing.T) {
	jpg := exampleJPEG(t)
	tests := []struct {
		name    string
		att     *conneqt.Attachment
		action  string // the change expected, "" for none
		detail  string // a part of its detail
		problem string // a part of the problem expected, "" for none
		check   func(t *testing.T, out []byte)
	}{
		{name: "clean text", att: &conneqt.Attachment{FileName: "a.txt", MIMEType: conneqt.MIMEText, Data: []byte("fine\n")}},
		{name: "UTF-16 text", att: &conneqt.Attachment{FileName: "a.txt", MIMEType: conneqt.MIMEText, Data: []byte("\xff\xfeZ\x00o\x00\xeb\x00\r\x00\n\x00")},
			action: "normalised text", detail: "converted from UTF-16LE to UTF-8; changed 1 CRLF or CR line ends to LF",
			check: func(t *testing.T, out []byte) {
				if string(out) != "Zoë\n" {
					t.Errorf("text %q", out)
				}
			}},
		{name: "cp1252 consultation", att: &conneqt.Attachment{FileName: "notes", MIMEType: conneqt.MIMEConsultation, Data: []byte("37.8 \xb0C\x07")},
			action: "normalised text", detail: "converted from Windows-1252 to UTF-8; removed 1 control characters"},
		{name: "JPEG with EXIF", att: &conneqt.Attachment{FileName: "p.jpg", MIMEType: conneqt.MIMEJPEG, Data: withEXIF(jpg, 6)},
			action: "removed metadata", detail: "removed EXIF metadata (APP1); kept only the EXIF orientation (6)",
			check: func(t *testing.T, out []byte) {
				if bytes.Contains(out, []byte("GPS")) {
					t.Error("GPS left")
				}
				info, err := segment.Parse(out)
				if err != nil || info.Orientation != 6 {
					t.Errorf("orientation %d, %v", info.Orientation, err)
				}
				a, _ := jpeg.Decode(bytes.NewReader(jpg))
				b, _ := jpeg.Decode(bytes.NewReader(out))
				if !bytes.Equal(a.(*image.YCbCr).Y, b.(*image.YCbCr).Y) {
					t.Error("pixels changed")
				}
			}},
		{name: "clean JPEG", att: &conneqt.Attachment{FileName: "p.jpg", MIMEType: conneqt.MIMEJPEG, Data: jpg}},
		{name: "PNG with text, EXIF and time", att: &conneqt.Attachment{FileName: "p.png", MIMEType: conneqt.MIMEPNG, Data: pngWithMetadata(t)},
			action: "removed metadata", detail: "removed tEXt, eXIf, tIME (the pixels are unchanged)",
			check: func(t *testing.T, out []byte) {
				if bytes.Contains(out, []byte("943 476")) || bytes.Contains(out, []byte("GPS")) {
					t.Error("metadata left")
				}
				if !bytes.Contains(out, []byte("gAMA")) {
					t.Error("gAMA removed")
				}
				a, _ := png.Decode(bytes.NewReader(pngWithMetadata(t)))
				b, err := png.Decode(bytes.NewReader(out))
				if err != nil || !bytes.Equal(a.(*image.NRGBA).Pix, b.(*image.NRGBA).Pix) {
					t.Errorf("pixels changed (%v)", err)
				}
			}},
		{name: "clean PNG", att: &conneqt.Attachment{FileName: "p.png", MIMEType: conneqt.MIMEPNG, Data: pngWithMetadata(t, "gAMA")}},
		{name: "PDF with JavaScript", att: &conneqt.Attachment{FileName: "l.pdf", MIMEType: conneqt.MIMEPDF, Data: jsPDF(t)},
			action: "removed active content", detail: "JavaScript action (document OpenAction)",
			check: func(t *testing.T, out []byte) {
				if bytes.Contains(out, []byte("JavaScript")) {
					t.Error("JavaScript left in the PDF")
				}
			}},
		{name: "clean PDF", att: &conneqt.Attachment{FileName: "l.pdf", MIMEType: conneqt.MIMEPDF, Data: examplePDF(t)}},
		{name: "PDF cut short", att: &conneqt.Attachment{FileName: "l.pdf", MIMEType: conneqt.MIMEPDF, Data: examplePDF(t)[:300]},
			problem: "is not a readable PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := bytes.Clone(tt.att.Data)
			doc := newDoc(tt.att)
			r := runner(t)
			r.Process(context.Background(), doc)
			var problems []string
			for _, p := range doc.Problems() {
				problems = append(problems, p.String())
			}
			if tt.problem == "" && len(problems) > 0 || tt.problem != "" && !strings.Contains(strings.Join(problems, "\n"), tt.problem) {
				t.Fatalf("problems %q, want %q", problems, tt.problem)
			}
			if tt.problem != "" && !bytes.Equal(tt.att.Data, before) {
				t.Error("a failed attachment was changed")
			}
			var found bool
			for _, c := range doc.Changes() {
				if c.Name != "attachments[0].content" {
					continue
				}
				if c.Action != tt.action && !(tt.action == "removed active content" && c.Action == "rewrote PDF") {
					t.Errorf("unexpected change %+v", c)
				}
				if c.Action == tt.action && strings.Contains(c.Detail, tt.detail) {
					found = true
				}
			}
			if tt.action != "" && !found {
				t.Errorf("no %q change with %q: %+v", tt.action, tt.detail, doc.Changes())
			}
			if tt.action == "" && !bytes.Equal(tt.att.Data, before) {
				t.Error("content changed without a reported change")
			}
			if tt.check != nil {
				tt.check(t, tt.att.Data)
			}
			if tt.problem == "" {
				ps, _ := validate.CheckMessage(doc.Route, doc.Message, validate.Options{})
				if len(ps) > 0 {
					t.Errorf("sanitised message fails the strict check: %v", ps)
				}
			}
		})
	}
}

// TestConcurrent runs many documents at once under -race.
func TestConcurrent(t *testing.T) {
	r := runner(t)
	jpg, js := withEXIF(exampleJPEG(t), 3), jsPDF(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := newDoc(
				&conneqt.Attachment{FileName: "a.jpg", MIMEType: conneqt.MIMEJPEG, Data: bytes.Clone(jpg)},
				&conneqt.Attachment{FileName: "a.jpg", MIMEType: conneqt.MIMEJPEG, Data: bytes.Clone(jpg)},
				&conneqt.Attachment{FileName: "b.pdf", MIMEType: conneqt.MIMEPDF, Data: bytes.Clone(js)},
			)
			if err := r.Process(context.Background(), doc); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

func TestNew(t *testing.T) {
	if _, err := sanitise.New(sanitise.Options{MaxPixels: -1}); err == nil {
		t.Error("negative MaxPixels accepted")
	}
	s, err := sanitise.New(sanitise.Options{})
	if err != nil || s.Name() != "sanitise" || !s.CollectsProblems() {
		t.Fatalf("%v %v", s, err)
	}
}

// pngWithMetadata is a small PNG with a gAMA chunk (kept), and tEXt, eXIf
// and tIME chunks (removed) unless only is given: the chunk types to
// include.
func pngWithMetadata(t testing.TB, only ...string) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 6, 4))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 41)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	chunk := func(typ, body string) []byte {
		var c bytes.Buffer
		binary.Write(&c, binary.BigEndian, uint32(len(body)))
		c.WriteString(typ + body)
		binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE([]byte(typ+body)))
		return c.Bytes()
	}
	var extra []byte
	for _, c := range [][2]string{{"gAMA", "\x00\x00\xb1\x8f"}, {"tEXt", "Comment\x00NHS 943 476 5919"}, {"eXIf", "MM\x00*GPS"}, {"tIME", "\x07\xea\x0b\x15\x0a\x00\x00"}} {
		if len(only) == 0 || slices.Contains(only, c[0]) {
			extra = append(extra, chunk(c[0], c[1])...)
		}
	}
	data := b.Bytes()
	at := 8 + 12 + 13 // after IHDR
	return append(append(bytes.Clone(data[:at]), extra...), data[at:]...)
}

// TestReusesValidatedPDF: the validate stage leaves the PDF it parsed on
// the document, the sanitise stage uses it (removing the active content as
// from its own parse) and forgets it; without it, sanitise parses alone.
func TestReusesValidatedPDF(t *testing.T) {
	for _, validated := range []bool{true, false} {
		t.Run(fmt.Sprintf("validated=%v", validated), func(t *testing.T) {
			att := &conneqt.Attachment{FileName: "l.pdf", MIMEType: conneqt.MIMEPDF, Data: jsPDF(t)}
			doc := newDoc(att)
			if validated {
				v, err := validate.New(validate.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if err := v.ProcessAttachment(context.Background(), doc, 0); err != nil {
					t.Fatal(err)
				}
				if doc.Recall(0, pdfdoc.ParsedKey) == nil {
					t.Fatal("validate left no parsed PDF on the document")
				}
			}
			s, err := sanitise.New(sanitise.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(att.Data, []byte("JavaScript")) {
				t.Error("JavaScript left in the PDF")
			}
			if doc.Recall(0, pdfdoc.ParsedKey) != nil {
				t.Error("sanitise did not forget the parsed PDF")
			}
		})
	}
}
