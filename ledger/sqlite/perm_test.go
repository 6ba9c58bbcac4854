//go:build unix

package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

// TestLedgerFilesArePrivate: the ledger and SQLite's files beside it are
// created readable by their owner only, whatever the umask.
func TestLedgerFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no POSIX modes")
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Claim(context.Background(), ledger.Item{MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876", SourceID: "s", Line: 1, Hash: "h"}, ledger.ClaimOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(path + suffix)
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != sqlite.FileMode {
			t.Errorf("%s: mode %v, want %v", filepath.Base(path+suffix), fi.Mode().Perm(), sqlite.FileMode)
		}
	}
}
