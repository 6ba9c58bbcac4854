package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/ledgertest"
)

func TestListAndStatus(t *testing.T) {
	ledgertest.RunListAndStatus(t, func(t *testing.T) ledgertest.Opener {
		path := filepath.Join(t.TempDir(), "test.ledger.db")
		return func(t *testing.T) ledger.Ledger { return open(t, path, "") }
	})
}

// TestListPages: List reads more entries than one page, in line order.
func TestListPages(t *testing.T) {
	ctx := context.Background()
	l := open(t, filepath.Join(t.TempDir(), "l.db"), "")
	defer l.Close()
	const n = 2*listPage + 7
	for i := range n {
		if _, err := l.Claim(ctx, ledger.Item{MessageID: fmt.Sprintf("m%05d", n-i), Line: (n - i) / 2, Hash: "h"}, ledger.ClaimOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	seen, last := 0, ledger.Entry{Line: -1}
	err := l.List(ctx, func(e ledger.Entry) error {
		if e.Line < last.Line || e.Line == last.Line && e.MessageID <= last.MessageID {
			return fmt.Errorf("%s (line %d) after %s (line %d)", e.MessageID, e.Line, last.MessageID, last.Line)
		}
		seen, last = seen+1, e
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("listed %d of %d: %v", seen, n, err)
	}
}

// TestMigrateStatusTables: a ledger file of schema 2 (no status tables)
// reads as having no statuses when opened read-only, and is migrated to
// schema 3 when opened for writing.
func TestMigrateStatusTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO ledger_meta VALUES ('schema', '2')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages (` + columns + `) VALUES ('m1', '', 1, 'h', 'sent', 1, NULL, 'https://x.test/s', 'r', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	ro, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ro.Status(ctx, "m1"); err != nil || r.Status != "" {
		t.Fatalf("read-only schema 1: %+v %v", r, err)
	}
	ro.Close()
	l := open(t, path, "")
	defer l.Close()
	var v string
	if err := l.db.QueryRow(`SELECT value FROM ledger_meta WHERE key = 'schema'`).Scan(&v); err != nil || v != "3" {
		t.Fatalf("schema %q %v", v, err)
	}
	if err := l.RecordPoll(ctx, "m1", l.now(), &ledger.StatusRecord{Status: "COMPLETED"}); err != nil {
		t.Fatal(err)
	}
}
