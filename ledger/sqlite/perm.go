package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// FileMode is the mode a new ledger file is created with: the ledger holds
// patient data (source ids, problem texts), so only its owner may read it.
// SQLite gives the -wal and -shm files beside it the same mode.
const FileMode fs.FileMode = 0o600

// createPrivate creates the ledger file with FileMode if it does not exist,
// before SQLite would create it with the umask's (usually 0644). An existing
// file keeps its mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: create %s: %w", path, err)
	}
	return f.Close()
}
