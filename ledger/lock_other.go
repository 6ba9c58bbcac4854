//go:build !unix && !windows

package ledger

import (
	"errors"
	"os"
)

// tryLock fails: this platform has no file lock gpdoc knows how to take.
func tryLock(*os.File) (bool, error) {
	return false, errors.New("file locks are not supported on this platform")
}

func unlock(*os.File) error { return nil }
