package render

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/gpdoc/gpdoc/stages/render/layout"
)

// testNow is the clock of every test: a day after the example consultation.
var testNow = time.Date(2026, 11, 21, 9, 15, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// exampleRaw is the consultation object of the example manifest's GP Connect
// line, so that the schema stays compatible with the manifest.
func exampleRaw(t testing.TB) []byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "examples", "manifest.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Consultation json.RawMessage `json:"consultation"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.Consultation != nil {
			return line.Consultation
		}
	}
	t.Fatal("no consultation in the example manifest")
	return nil
}

func example(t testing.TB) *Consultation {
	t.Helper()
	c, err := Parse(exampleRaw(t), testNow)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newStage(t testing.TB, o Options) *Stage {
	t.Helper()
	if o.Now == nil {
		o.Now = fixedNow
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func render(t testing.TB, s *Stage, c *Consultation) *Report {
	t.Helper()
	rep, err := s.Render(t.Context(), c, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// validateStrict fails the test unless pdfcpu accepts pdf in strict mode.
func validateStrict(t testing.TB, pdf []byte) {
	t.Helper()
	conf := layout.Configuration()
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
		t.Fatalf("strict validation: %v", err)
	}
}

// pdftotext extracts the text of pages first..last (0, 0: all) with
// poppler's pdftotext, skipping the test if it is not installed.
func pdftotext(t testing.TB, pdf []byte, first, last int, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	in := filepath.Join(t.TempDir(), "in.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	a := append([]string{"-enc", "UTF-8"}, args...)
	if first > 0 {
		a = append(a, "-f", strconv.Itoa(first), "-l", strconv.Itoa(last))
	}
	a = append(a, in, "-")
	out, err := exec.Command(bin, a...).Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// squash collapses runs of white space, so that wrapped text can be found.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// longNotes returns n paragraphs of numbered words, with blank lines
// between some, a word too long for a line, and non-ASCII text.
func longNotes(n int) string {
	var b strings.Builder
	for i := range n {
		for j := range 40 {
			b.WriteString("w" + strconv.Itoa(i*100+j) + " ")
			if j%9 == 0 {
				b.WriteString("ærø µg °C ")
			}
		}
		b.WriteString("\n")
		if i%3 == 0 {
			b.WriteString("\n")
		}
		if i%7 == 0 {
			b.WriteString(strings.Repeat("Unbroken", 30) + "\n")
		}
	}
	return b.String()
}

var errCancelled = context.Canceled

func contextWithCancel(t testing.TB) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}
