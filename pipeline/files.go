package pipeline

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/textnorm"
)

// Errors for attachment files the Runner will not read. Each is reported as
// a problem at attachments[i].path; they match with errors.Is.
var (
	// ErrOutsideFolders: the path resolves, after following symlinks,
	// outside every folder in Document.Folders.
	ErrOutsideFolders = errors.New("outside the folders gpdoc may read from")
	// ErrNotRegular: a directory, named pipe, device, socket or other
	// non-regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrFileTooLarge: larger than the cap for the attachment's type.
	ErrFileTooLarge = errors.New("file too large")
	// ErrFileChanged: the file's size or identity changed while gpdoc read
	// it, or it holds more than its size says (a pseudo-file as in /proc).
	ErrFileChanged = errors.New("file changed while being read")
)

// filePlan is what the Runner found when it first opened attachment i's
// file: the file (to check that it reads the same one) and its size.
type filePlan struct {
	i    int
	info os.FileInfo
}

// planFiles opens every attachment file of doc (an attachment with a Path
// and no Data), checks it is a regular file inside doc.Folders and under
// its cap, and closes it again. A file that fails is a problem at
// attachments[i].path. It returns the files to read and their total size;
// if that total is more than the Runner holds at once it records a problem
// at "attachments" and returns no files.
func (r *Runner) planFiles(doc *Document) ([]filePlan, int64) {
	var plans []filePlan
	var total int64
	for i, a := range doc.Message.Attachments {
		if a == nil || a.Data != nil || a.Path == "" {
			continue
		}
		info, err := r.checkFile(doc, a)
		var over *overLimitError
		switch {
		case errors.As(err, &over):
			// Nothing can make this file smaller: it is the size gate's
			// problem, told now, from the file's size.
			if p, ok := doc.Route.CheckAttachmentSize(i, over.size); !ok {
				doc.AddProblem(p)
			}
			continue
		case err != nil:
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(i, "path"), Reason: err.Error()})
			continue
		}
		plans = append(plans, filePlan{i: i, info: info})
		total += info.Size()
	}
	if total > r.limit {
		doc.AddProblem(conneqt.Problem{Name: "attachments", Reason: fmt.Sprintf(
			"the message's files total %d bytes, more than the %d bytes gpdoc holds in memory at once (Runner.MaxBytesInFlight); none was read",
			total, r.limit)})
		return nil, 0
	}
	return plans, total
}

// checkFile opens a's file and checks it; the file is closed again.
func (r *Runner) checkFile(doc *Document, a *conneqt.Attachment) (os.FileInfo, error) {
	f, info, err := openRegular(a.Path, doc.Folders)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, min(512, info.Size()))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	sniffed := http.DetectContentType(head)
	if i := strings.IndexByte(sniffed, ';'); i >= 0 {
		sniffed = sniffed[:i]
	}
	limit := max(doc.Route.MaxSourceBytes(a.MIMEType), doc.Route.MaxSourceBytes(sniffed))
	reducible := conneqt.Reducible(a.MIMEType) || conneqt.Reducible(sniffed)
	if a.MIMEType == conneqt.MIMEText || a.MIMEType == conneqt.MIMEConsultation {
		// UTF-16 or UTF-32 text shrinks when sanitise turns it into UTF-8:
		// the size gate after it decides.
		if k := textnorm.Shrink(head); k > 1 {
			reducible = true
			limit = max(limit, k*doc.Route.MaxDecodedBytes())
		}
	}
	if r.MaxFileBytes > 0 {
		limit = r.MaxFileBytes
	}
	if limit := doc.Route.MaxDecodedBytes(); !reducible && r.MaxFileBytes <= 0 && limit > 0 && info.Size() > limit {
		return nil, &overLimitError{size: info.Size()}
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d bytes gpdoc reads for a file of this type (the route accepts attachments of up to %s; only JPEG, PNG and PDF files, and UTF-16 or UTF-32 text, can be made smaller; see README, \"What a manifest may reference\")",
			ErrFileTooLarge, info.Size(), limit, doc.Route.DescribeLimit())
	}
	return info, nil
}

// overLimitError is a file that no stage can make smaller and that is over
// the route's size limit: the size gate's problem, found before reading.
type overLimitError struct{ size int64 }

func (e *overLimitError) Error() string { return fmt.Sprintf("%d bytes, over the size limit", e.size) }

// loadFiles reads the files planFiles found. Each is opened again and read
// only if it is still the same regular file of the same size, and never past
// that size, so a message never holds more than the bytes it reserved.
func (r *Runner) loadFiles(doc *Document, plans []filePlan) {
	for _, p := range plans {
		a := doc.Message.Attachments[p.i]
		data, err := readPlanned(a.Path, doc.Folders, p.info)
		if err != nil {
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(p.i, "path"), Reason: err.Error()})
			continue
		}
		a.Data = data
	}
}

func readPlanned(path string, folders []string, planned os.FileInfo) ([]byte, error) {
	f, info, err := openRegular(path, folders)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !os.SameFile(info, planned) || info.Size() != planned.Size() {
		return nil, fmt.Errorf("%w: it was replaced or its size changed since it was checked", ErrFileChanged)
	}
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: it holds fewer bytes than its size (%d)", ErrFileChanged, info.Size())
		}
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	var one [1]byte
	if n, _ := f.Read(one[:]); n > 0 {
		return nil, fmt.Errorf("%w: it holds more than its size (%d bytes) says: a file still being written, or a pseudo-file such as those in /proc", ErrFileChanged, info.Size())
	}
	return data, nil
}

// openRegular opens path for reading if it resolves, after following
// symlinks, inside one of folders, and is a regular file. The open is
// non-blocking (a named pipe with no writer does not hang it) and goes
// through an [os.Root] on the folder, so a symlink swapped in after the
// check still cannot lead outside. The type is checked on the open
// descriptor.
func openRegular(path string, folders []string) (*os.File, os.FileInfo, error) {
	f, err := openInFolders(path, folders)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot read the file: %w", err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%w: it is %s; only regular files are read", ErrNotRegular, describeMode(info.Mode()))
	}
	return f, info, nil
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

func openInFolders(path string, folders []string) (*os.File, error) {
	if len(folders) == 0 {
		return nil, fmt.Errorf("%w: no folder is allowed for this document (Document.Folders is empty)", ErrOutsideFolders)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if _, inside := containing(abs, folders); !inside {
			return nil, outside(folders)
		}
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	dir, inside := containing(real, folders)
	if !inside {
		return nil, outside(folders)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	defer root.Close()
	rel, _ := filepath.Rel(dir, real)
	f, err := root.OpenFile(rel, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	return f, nil
}

// containing returns the folder (symlinks resolved) that holds path, if any.
func containing(path string, folders []string) (string, bool) {
	for _, d := range folders {
		abs, err := filepath.Abs(d)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		rel, err := filepath.Rel(abs, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return abs, true
		}
	}
	return "", false
}

func outside(folders []string) error {
	return fmt.Errorf("%w: the path resolves (after following symlinks) outside %s (the manifest's folder and any --allow-path folder); move the file into one or allow its folder with --allow-path",
		ErrOutsideFolders, strings.Join(folders, ", "))
}
