package sanitise_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/validate"
)

// corpusExceptions are the files whose outcome differs from their
// manifest class, each with the reason. The manifest's class comes from the
// file's upstream project; gpdoc's answer is what Go and pdfcpu can do.
var corpusExceptions = map[string]struct {
	outcome string // "pass", "unsupported" or "problem"
	why     string
}{
	"jpeg/jpeg-decoder/mjpeg.jpg":              {"unsupported", "valid Motion-JPEG frame without Huffman tables: Go cannot decode it"},
	"jpeg/jpeg-decoder/jpeg_lossless_sel1.jpg": {"unsupported", "valid lossless (SOF3) JPEG: Go cannot decode it"},
	"text/chardet/SHIFT_JIS/_ude_1.txt":        {"unsupported", "valid Shift_JIS text: its encoding cannot be told without guessing, so it is refused"},
	"pdf/pdfjs/issue6081.pdf":                  {"problem", "valid per pdf.js, but pdfcpu's relaxed validation rejects its indirect colour space name; the later stages need pdfcpu"},
	"pdf/pdfjs/empty_protected.pdf":            {"pass", "encrypted with an empty user password (permissions only): it opens, so it passes with a warning"},
	"pdf/pdfjs/issue17215.pdf":                 {"pass", "encrypted with an empty user password: it opens, so it passes with a warning"},
	"pdf/pdfjs/issue15590.pdf":                 {"problem", "has JavaScript but is also corrupt (no startxref): refused, not fixed"},
}

type corpusFile struct {
	path, class, note string
}

func readManifest(t *testing.T, root string) []corpusFile {
	f, err := os.Open(filepath.Join(root, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var files []corpusFile
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 0; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if n == 0 || len(cols) < 6 {
			continue
		}
		files = append(files, corpusFile{path: cols[0], class: cols[3], note: cols[5]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return files
}

func declaredType(path string) string {
	switch {
	case strings.HasPrefix(path, "pdf/"):
		return pipeline.MIMEPDF
	case strings.HasPrefix(path, "png/"):
		return pipeline.MIMEPNG
	case strings.HasPrefix(path, "jpeg/"):
		return pipeline.MIMEJPEG
	}
	return pipeline.MIMEText
}

// corpusDoc wraps one corpus file as the only attachment of a valid
// standard message.
func corpusDoc(name, mime string, data []byte) *pipeline.Document {
	return &pipeline.Document{
		Route: pipeline.MustRoute(pipeline.Standard),
		Message: &pipeline.Message{
			MessageID:   "0c6b6a2e-4f1d-4f8e-9a55-3f0d1c2b7e11",
			Type:        "ToolbarMessage",
			Topic:       "Health",
			Recipient:   pipeline.Party{ID: pipeline.Identifier{Value: "G00001", Type: pipeline.IDOcsClient}},
			Subject:     pipeline.Party{ID: pipeline.Identifier{Value: "9434765919", Type: pipeline.IDVerifiedNHSNumber}},
			Body:        &pipeline.Body{MIMEType: pipeline.MIMEText, Content: "Corpus file"},
			Attachments: []*pipeline.Attachment{{FileName: name, MIMEType: mime, Data: data}},
		},
	}
}

// TestCorpus runs validate and sanitise over every file of the shared
// corpus and checks the outcome against manifest.tsv's expected class:
// corrupt files are problems (never panics or hangs), encrypted files that
// need a password are problems, files with JavaScript pass once sanitised
// with the removals reported, valid files pass, and the valid formats Go
// cannot decode get an "unsupported" problem.
func TestCorpus(t *testing.T) {
	root := corpustest.Dir(t)
	v, err := validate.New(validate.Options{Sanitise: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sanitise.New(sanitise.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runner := &pipeline.Runner{Stages: pipeline.Pipeline{v, s}}
	files := readManifest(t, root)
	if len(files) < 250 {
		t.Fatalf("manifest lists %d files", len(files))
	}
	counts := map[string]int{}
	for _, f := range files {
		t.Run(f.path, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f.path)))
			if err != nil {
				t.Fatal(err)
			}
			doc := corpusDoc(filepath.Base(f.path), declaredType(f.path), data)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- runner.Process(ctx, doc) }()
			var perr error
			select {
			case perr = <-done:
			case <-ctx.Done():
				t.Fatalf("no answer within 60 s: a hang")
			}
			var se *pipeline.StageError
			if errors.As(perr, &se) {
				t.Fatalf("fatal stage error instead of a problem: %v", perr)
			}
			problems := doc.Problems()
			changes := doc.Changes()
			for _, p := range problems {
				if strings.Contains(p.Reason, "stage failed on this file") {
					t.Errorf("a stage panicked: %v", p)
				}
			}
			want := map[string]string{"valid": "pass", "corrupt": "problem", "encrypted": "problem", "has-javascript": "sanitised", "unknown": "any"}[f.class]
			if ex, ok := corpusExceptions[f.path]; ok {
				want = ex.outcome
			}
			counts[want]++
			switch want {
			case "pass", "sanitised":
				if len(problems) > 0 {
					t.Errorf("class %s: want no problems, got %v", f.class, problems)
				}
				if want == "sanitised" && !hasAction(changes, "removed active content") {
					t.Errorf("JavaScript file passed without a reported removal: %v", changes)
				}
				if want == "sanitised" {
					// The sanitised file passes the strict check.
					ps, _ := validate.CheckMessage(doc.Route, doc.Message, validate.Options{Now: fixedNow})
					if len(ps) > 0 {
						t.Errorf("sanitised file fails the strict check: %v", ps)
					}
				}
			case "problem":
				if len(problems) == 0 {
					t.Errorf("class %s (%s): want a problem, got none", f.class, f.note)
				}
				t.Logf("%s: %v", f.class, problems)
			case "any":
				t.Logf("%s: problems %v, changes %v", f.class, problems, changes)
			case "unsupported":
				if len(problems) == 0 || !strings.Contains(problems[0].Reason, pipeline.ErrUnsupported.Error()) {
					t.Errorf("want an 'unsupported' problem, got %v", problems)
				}
			}
		})
	}
	t.Logf("outcomes: %v", counts)
}

func hasAction(cs []pipeline.Change, action string) bool {
	for _, c := range cs {
		if c.Action == action {
			return true
		}
	}
	return false
}

func fixedNow() time.Time { return time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC) }
