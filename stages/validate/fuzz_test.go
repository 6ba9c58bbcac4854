package validate

import (
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
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
		o := Options{Now: fixedNow, MaxPixels: 4_000_000} // keep decodes small under the fuzzer
		input := func() ([]conneqt.Problem, []conneqt.Problem, *conneqt.Message) {
			m := baseMessage(conneqt.Standard, &conneqt.Attachment{FileName: "file", MIMEType: mime, Data: data})
			ps, ws := checkInput(t, route, m, o)
			return ps, ws, m
		}
		lenient, lw, m := input()
		for _, p := range lenient {
			if strings.Contains(p.Reason, "(panic in ") {
				t.Fatalf("panic inside a check: %v", p)
			}
			if !strings.HasPrefix(p.Name, "attachments[0].") {
				t.Fatalf("problem outside the attachment: %v", p)
			}
		}
		// Which fields have problems is deterministic. The reason's detail
		// may not be: pdfcpu reports the first broken object it meets while
		// ranging over a map (one of several broken fonts, say).
		again, aw, _ := input()
		if !slices.Equal(problemNames(lenient), problemNames(again)) || !slices.Equal(problemNames(lw), problemNames(aw)) {
			t.Fatalf("not deterministic: %v / %v", lenient, again)
		}
		strict, _ := CheckMessage(route, baseMessage(conneqt.Standard, att), o)
		for _, p := range strict {
			if strings.Contains(p.Reason, "(panic in ") {
				t.Fatalf("panic inside a check: %v", p)
			}
		}
		// Sanitising can itself leave nothing to send (a text that is only
		// control characters): that problem exists only when sanitise runs.
		lenientBefore := slices.DeleteFunc(slices.Clone(lenient), func(p conneqt.Problem) bool {
			return strings.Contains(p.Reason, "once control characters are removed")
		})
		if len(strict) < len(lenientBefore) {
			t.Fatalf("strict check found less than the lenient one: %v vs %v", strict, lenient)
		}
		// The stage records what it detects.
		if len(lenient) == 0 && m.Attachments[0].DetectedMIME == "" {
			t.Fatal("no detected type")
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
