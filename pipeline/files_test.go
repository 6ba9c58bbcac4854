package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// fileFixture is a manifest folder with a file, a sub-folder, a symlink
// inside and one out, a named pipe, and a secret file beside the folder.
type fileFixture struct {
	dir, other, secret string
}

func newFileFixture(t testing.TB) fileFixture {
	t.Helper()
	root := t.TempDir()
	fx := fileFixture{dir: filepath.Join(root, "manifest"), other: filepath.Join(root, "scans"), secret: filepath.Join(root, "secret.txt")}
	for _, d := range []string{fx.dir, filepath.Join(fx.dir, "sub"), fx.other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(fx.dir, "note.txt"), "note")
	write(filepath.Join(fx.dir, "sub", "deep.txt"), "deep")
	write(filepath.Join(fx.other, "scan.txt"), "scan")
	write(fx.secret, "API_KEY=secret")
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(fx.dir, name)); err != nil {
			t.Skip("no symlinks here:", err)
		}
	}
	link("sub/deep.txt", "inside-link.txt")
	link(fx.secret, "outside-link.txt")
	link("..", "up")
	link(fx.other, "scans-link")
	if err := mkfifo(filepath.Join(fx.dir, "pipe")); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		t.Fatal(err)
	}
	return fx
}

// loadOne runs the Runner's file loading on one attachment and returns its
// data and the problems recorded.
func loadOne(t *testing.T, r *pipeline.Runner, folders []string, path, mime string) ([]byte, []conneqt.Problem) {
	t.Helper()
	doc := newDoc(0)
	doc.Folders = folders
	doc.Message.Attachments = []*conneqt.Attachment{{FileName: "a", MIMEType: mime, Path: path}}
	var data []byte
	s := pipeline.CollectingProblems(pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		data = d.Message.Attachments[i].Data
		return nil
	}))
	r.Stages = pipeline.Pipeline{s}
	err := r.Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if err != nil && !errors.As(err, &ve) {
		t.Fatalf("Process: %v", err)
	}
	return data, doc.Problems()
}

func TestAttachmentFiles(t *testing.T) {
	fx := newFileFixture(t)
	in := func(p string) string { return filepath.Join(fx.dir, p) }
	only := []string{fx.dir}
	tests := []struct {
		name    string
		folders []string
		path    string
		want    string // data read, if no problem
		wantErr error  // else the problem at attachments[0].path starts with this
	}{
		{"a file in the folder", only, in("note.txt"), "note", nil},
		{"a file in a sub-folder", only, in("sub/deep.txt"), "deep", nil},
		{"a symlink that stays inside", only, in("inside-link.txt"), "deep", nil},
		{"a relative path from the working directory", only, relTo(t, in("note.txt")), "note", nil},
		{"../ out of the folder", only, in("../secret.txt"), "", pipeline.ErrOutsideFolders},
		{"../ that comes back in", only, in("sub/../note.txt"), "note", nil},
		{"an absolute path outside", only, fx.secret, "", pipeline.ErrOutsideFolders},
		{"a symlink out of the folder", only, in("outside-link.txt"), "", pipeline.ErrOutsideFolders},
		{"a symlinked folder out of the folder", only, in("up/secret.txt"), "", pipeline.ErrOutsideFolders},
		{"/etc/shadow", only, "/etc/shadow", "", pipeline.ErrOutsideFolders},
		{"/proc/self/environ", only, "/proc/self/environ", "", pipeline.ErrOutsideFolders},
		{"a missing file outside", only, "/nonexistent/x.pdf", "", pipeline.ErrOutsideFolders},
		{"no folders at all", nil, in("note.txt"), "", pipeline.ErrOutsideFolders},
		{"--allow-path widens", []string{fx.dir, fx.other}, filepath.Join(fx.other, "scan.txt"), "scan", nil},
		{"a symlink into an allowed folder", []string{fx.dir, fx.other}, in("scans-link/scan.txt"), "scan", nil},
		{"a symlink into a folder not allowed", only, in("scans-link/scan.txt"), "", pipeline.ErrOutsideFolders},
		{"a directory", only, in("sub"), "", pipeline.ErrNotRegular},
		{"the folder itself", only, fx.dir, "", pipeline.ErrNotRegular},
		{"a named pipe", only, in("pipe"), "", pipeline.ErrNotRegular},
		{"/dev/zero, allowed", []string{fx.dir, "/dev"}, "/dev/zero", "", pipeline.ErrNotRegular},
		{"/dev/urandom, allowed", []string{fx.dir, "/dev"}, "/dev/urandom", "", pipeline.ErrNotRegular},
		{"/proc/self/environ, allowed", []string{fx.dir, "/proc"}, "/proc/self/environ", "", pipeline.ErrFileChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.HasPrefix(tt.path, "/dev") || strings.HasPrefix(tt.path, "/proc") || strings.HasSuffix(tt.path, "pipe") {
				if _, err := os.Lstat(tt.path); err != nil {
					t.Skip(err)
				}
			}
			data, problems := loadOne(t, &pipeline.Runner{}, tt.folders, tt.path, conneqt.MIMEText)
			if tt.wantErr == nil {
				if len(problems) != 0 || string(data) != tt.want {
					t.Fatalf("data %q, problems %+v; want %q", data, problems, tt.want)
				}
				return
			}
			if len(problems) != 1 || problems[0].Name != "attachments[0].path" || !strings.HasPrefix(problems[0].Reason, tt.wantErr.Error()) {
				t.Fatalf("problems %+v, want one at attachments[0].path: %v", problems, tt.wantErr)
			}
			if data != nil {
				t.Errorf("read %d bytes of a refused file", len(data))
			}
		})
	}
}

func relTo(t *testing.T, path string) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		t.Skip(err)
	}
	return rel
}

func TestAttachmentFileCaps(t *testing.T) {
	dir := t.TempDir()
	limit := conneqt.MustRoute(conneqt.Standard).MaxAttachmentBytes
	text := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(text, bytes.Repeat([]byte("a"), int(limit)+1), 0o600); err != nil {
		t.Fatal(err)
	}
	// A text file cannot be made smaller: over the route's limit it is not
	// read, and the problem is the size gate's, told from the file's size.
	if data, ps := loadOne(t, &pipeline.Runner{}, []string{dir}, text, conneqt.MIMEText); data != nil || len(ps) != 1 ||
		ps[0].Name != "attachments[0].content" || !strings.HasPrefix(ps[0].Reason, "too large: 5000001 bytes") {
		t.Errorf("text over the route's limit: read %d bytes, %+v", len(data), ps)
	}
	// Declared as a PDF (downsampling may shrink it), the same size is read.
	if data, ps := loadOne(t, &pipeline.Runner{}, []string{dir}, text, conneqt.MIMEPDF); len(ps) != 0 || int64(len(data)) != limit+1 {
		t.Errorf("PDF-typed file under the PDF cap: %d bytes, %+v", len(data), ps)
	}
	// UTF-16 text halves when sanitise turns it into UTF-8: up to twice the
	// limit is read, and the size gate after sanitise decides. More than
	// twice cannot fit.
	for _, tc := range []struct {
		name  string
		size  int64
		read  bool
		bomLE bool
	}{
		{"UTF-16LE with a BOM, 1.5 times the limit", limit * 3 / 2, true, true},
		{"BOM-less UTF-16LE, 1.5 times the limit", limit * 3 / 2, true, false},
		{"UTF-16LE with a BOM, over twice the limit", 2*limit + 2, false, true},
	} {
		wide := filepath.Join(dir, "wide.txt")
		var b []byte
		if tc.bomLE {
			b = append(b, 0xFF, 0xFE)
		}
		b = append(b, bytes.Repeat([]byte("a\x00"), int(tc.size-int64(len(b)))/2)...)
		if err := os.WriteFile(wide, b, 0o600); err != nil {
			t.Fatal(err)
		}
		data, ps := loadOne(t, &pipeline.Runner{}, []string{dir}, wide, conneqt.MIMEText)
		if tc.read && (len(ps) != 0 || len(data) != len(b)) {
			t.Errorf("%s: read %d of %d bytes, %+v", tc.name, len(data), len(b), ps)
		}
		if !tc.read && (data != nil || len(ps) != 1 || !strings.HasPrefix(ps[0].Reason, pipeline.ErrFileTooLarge.Error())) {
			t.Errorf("%s: read %d bytes, %+v; want it refused, unread", tc.name, len(data), ps)
		}
	}
	// MaxFileBytes overrides the per-type cap.
	if _, ps := loadOne(t, &pipeline.Runner{MaxFileBytes: 100}, []string{dir}, text, conneqt.MIMEPDF); len(ps) != 1 || !strings.HasPrefix(ps[0].Reason, pipeline.ErrFileTooLarge.Error()) {
		t.Errorf("over MaxFileBytes: %+v", ps)
	}
}

// TestLinksToOneFileShareTheBudget: ten attachments naming one file count
// ten times its size against the bytes in flight, and a message over the
// whole budget reads nothing.
func TestLinksToOneFileShareTheBudget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "scan.pdf")
	if err := os.WriteFile(p, make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := newDoc(0)
	doc.Folders = []string{dir}
	for range 10 {
		doc.Message.Attachments = append(doc.Message.Attachments, &conneqt.Attachment{FileName: "scan.pdf", MIMEType: conneqt.MIMEPDF, Path: p})
	}
	read := 0
	s := pipeline.CollectingProblems(pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		read += len(d.Message.Attachments[i].Data)
		return nil
	}))
	r := &pipeline.Runner{Stages: pipeline.Pipeline{s}, MaxBytesInFlight: 5000, AttachmentConcurrency: 1}
	err := r.Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments" {
		t.Fatalf("err = %v, want one problem at attachments", err)
	}
	if read != 0 {
		t.Errorf("read %d bytes of a message over the budget", read)
	}
}

func TestNilAttachmentDoesNotPanic(t *testing.T) {
	doc := newDoc(1)
	doc.Message.Attachments = append(doc.Message.Attachments, nil)
	s := pipeline.CollectingProblems(pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		if d.Message.Attachments[i] == nil {
			return conneqt.NewValidationError([]conneqt.Problem{{Name: conneqt.AttachmentField(i, ""), Reason: "null"}})
		}
		return nil
	}))
	err := (&pipeline.Runner{Stages: pipeline.Pipeline{s}, Observer: pipeline.ObserverFunc(func(pipeline.Event) {})}).Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1]" {
		t.Fatalf("err = %v", err)
	}
}

// FuzzAttachmentPath: whatever path a manifest gives, the Runner never reads
// the file beside the manifest's folder.
func FuzzAttachmentPath(f *testing.F) {
	for _, p := range []string{"note.txt", "../secret.txt", "up/secret.txt", "outside-link.txt", "sub/../../secret.txt",
		"/proc/self/environ", "sub/./deep.txt", "up/manifest/up/secret.txt", "scans-link/../secret.txt", "pipe", "."} {
		f.Add(p)
	}
	fx := newFileFixture(f)
	f.Fuzz(func(t *testing.T, p string) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(fx.dir, p)
		}
		data, _ := loadOne(t, &pipeline.Runner{}, []string{fx.dir}, p, conneqt.MIMEText)
		if string(data) == "API_KEY=secret" {
			t.Fatalf("%q read the file outside the manifest's folder", p)
		}
	})
}

// TestNoLimitRouteReadsFiles: on a route with no size limit (a library
// user's), a text file is read (up to the bounded cap), not silently
// dropped as over a limit of zero.
func TestNoLimitRouteReadsFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "note.txt")
	if err := os.WriteFile(path, []byte("Chest clear."), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := newDoc(0)
	route := doc.Route.Clone()
	route.MaxAttachmentBytes = 0
	doc.Route = route
	doc.Folders = []string{dir}
	doc.Message.Attachments = []*conneqt.Attachment{{FileName: "note.txt", MIMEType: conneqt.MIMEText, Path: path}}
	var data []byte
	r := &pipeline.Runner{Stages: pipeline.Pipeline{pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		data = d.Message.Attachments[i].Data
		return nil
	})}}
	if err := r.Process(context.Background(), doc); err != nil || string(data) != "Chest clear." {
		t.Fatalf("Process: %v; read %q, problems %v", err, data, doc.Problems())
	}
}

// TestCheckPhaseMemosForgotten: what a check-phase stage keeps with
// Remember is forgotten when the check phase ends, so that it is not held
// through the rest of the pipeline.
func TestCheckPhaseMemosForgotten(t *testing.T) {
	type key struct{}
	doc := newDoc(0)
	doc.Message.Attachments = []*conneqt.Attachment{{FileName: "a.txt", MIMEType: conneqt.MIMEText, Data: []byte("x")}}
	var inCheck, after any
	keep := pipeline.CollectingProblems(pipeline.MessageFunc("keep", func(_ context.Context, d *pipeline.Document) error {
		d.Remember(0, key{}, "parsed")
		inCheck = d.Recall(0, key{})
		return nil
	}))
	look := pipeline.MessageFunc("look", func(_ context.Context, d *pipeline.Document) error {
		after = d.Recall(0, key{})
		return nil
	})
	if err := (&pipeline.Runner{Stages: pipeline.Pipeline{keep, look}}).Process(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	if inCheck != "parsed" || after != nil {
		t.Fatalf("in the check phase %v, after it %v: want kept, then forgotten", inCheck, after)
	}
}
