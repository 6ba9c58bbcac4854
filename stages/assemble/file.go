package assemble

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gpdoc/gpdoc/pipeline"
)

// ErrBadFileName is returned by WriteDir for a messageId that cannot be used
// as a file name.
var ErrBadFileName = errors.New("not usable as a file name")

// WriteFile writes the body p to the file path, streaming it, through a
// temporary file in the same directory that is renamed into place only once
// complete, so a reader never sees half a message. It checks that exactly
// p.Size() bytes were written.
func WriteFile(path string, p pipeline.Payload) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	n, err := io.Copy(f, p.NewReader())
	if err != nil {
		return fmt.Errorf("assemble: writing %s: %w", path, err)
	}
	if n != p.Size() {
		return fmt.Errorf("assemble: wrote %d bytes to %s, the payload's size is %d", n, path, p.Size())
	}
	if err := f.Chmod(0o600); err != nil { // an assembled message holds patient data: owner only
		return fmt.Errorf("assemble: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("assemble: writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	return nil
}

// WriteDir writes the assembled body of doc (doc.Payload, which the assemble
// stage sets) to dir/<messageId>.json, as `gpdoc backfill --dry-run DIR`
// does, and returns the file's path. A messageId that is empty, starts with
// a period or holds anything but letters, digits, '-', '_' and '.' is
// refused with ErrBadFileName (it must never name a file outside dir).
func WriteDir(dir string, doc *pipeline.Document) (string, error) {
	if doc.Payload == nil || doc.Message == nil {
		return "", fmt.Errorf("assemble: document %s has no payload: run the assemble stage first", doc.ID())
	}
	id := doc.Message.MessageID
	if !safeName(id) {
		return "", fmt.Errorf("assemble: messageId %q: %w", id, ErrBadFileName)
	}
	path := filepath.Join(dir, id+".json")
	return path, WriteFile(path, doc.Payload)
}

func safeName(s string) bool {
	if s == "" || len(s) > 200 || strings.HasPrefix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
