package validate

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

var fuzzTypes = []string{conneqt.MIMEPDF, conneqt.MIMEJPEG, conneqt.MIMEPNG, conneqt.MIMEText, conneqt.MIMEConsultation}

// FuzzIntake feeds arbitrary bytes, declared as each attachment type,
// through the attachment intake (bytes → detected type → structural
// checks). No input may panic a decoder, results must be deterministic, and
// the strict check must agree with the lenient one on content that needs no
// fixing.
func FuzzIntake(f *testing.F) {
	f.Add(examplePDF(f), uint8(0))
	f.Add(testJPEG(f), uint8(1))
	f.Add(testPNG(f), uint8(2))
	f.Add([]byte("Chest clear.\r\nSpO2 98%"), uint8(3))
	f.Add([]byte("\xff\xfeh\x00i\x00"), uint8(4))
	f.Add([]byte("caf\xe9"), uint8(3))
	f.Add([]byte("%PDF-1.4\n1 0 obj<<>>endobj\nstartxref\n9\n%%EOF"), uint8(0))
	f.Add([]byte("\xff\xd8\xff\xc3\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9"), uint8(1))
	f.Add([]byte("\x89PNG\r\n\x1a\n"), uint8(2))
	f.Add([]byte("<html><script>1</script>"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		mime := fuzzTypes[int(kind)%len(fuzzTypes)]
		att := &conneqt.Attachment{FileName: "file", MIMEType: mime, Data: data}
		route := conneqt.MustRoute(conneqt.Standard)
		check := func(o Options) ([]conneqt.Problem, []conneqt.Problem) {
			m := baseMessage(conneqt.Standard, att)
			o.Now = fixedNow
			o.MaxPixels = 4_000_000 // keep decodes small under the fuzzer
			return CheckMessage(route, m, o)
		}
		lenient, lw := check(Options{Sanitise: true, Downsample: true})
		for _, p := range lenient {
			if strings.Contains(p.Reason, "a decoder failed on it") {
				t.Fatalf("panic inside a check: %v", p)
			}
			if !strings.HasPrefix(p.Name, "attachments[0].") {
				t.Fatalf("problem outside the attachment: %v", p)
			}
		}
		// Which fields have problems is deterministic. The reason's detail
		// may not be: pdfcpu reports the first broken object it meets while
		// ranging over a map (one of several broken fonts, say).
		again, aw := check(Options{Sanitise: true, Downsample: true})
		if !slices.Equal(problemNames(lenient), problemNames(again)) || !slices.Equal(problemNames(lw), problemNames(aw)) {
			t.Fatalf("not deterministic: %v / %v", lenient, again)
		}
		strict, _ := check(Options{})
		// Sanitising can itself leave nothing to send (a text that is only
		// control characters): that problem exists only when sanitise runs.
		lenientBefore := slices.DeleteFunc(slices.Clone(lenient), func(p conneqt.Problem) bool {
			return strings.Contains(p.Reason, "once control characters are removed")
		})
		if len(strict) < len(lenientBefore) {
			t.Fatalf("strict check found less than the lenient one: %v vs %v", strict, lenient)
		}
		// The stage records what it detects; it must not fail where
		// CheckMessage passes.
		if len(lenient) == 0 {
			s, _ := New(Options{Sanitise: true, Downsample: true, Now: fixedNow, MaxPixels: 4_000_000})
			doc := &pipeline.Document{Route: route, Message: baseMessage(conneqt.Standard, &conneqt.Attachment{FileName: "file", MIMEType: mime, Data: data})}
			if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
				t.Fatalf("stage fails where CheckMessage passes: %v", err)
			}
			if doc.Message.Attachments[0].DetectedMIME == "" {
				t.Fatal("no detected type")
			}
		}
	})
}

func problemNames(ps []conneqt.Problem) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}
