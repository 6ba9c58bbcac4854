// Package open opens the ledger a target string names: a PostgreSQL ledger
// (package ledger/postgres) for a postgres:// or postgresql:// URL, and an
// SQLite ledger file (package ledger/sqlite) for anything else, taken as a
// path. It lives apart from package ledger so that ledger need not import
// its implementations.
//
// Commands take the target from their --ledger flag, or else from the
// GPDOC_LEDGER environment variable ([Target]), so that a fleet of workers
// can be pointed at one database without a password on any command line:
//
//	GPDOC_LEDGER='postgres://gpdoc@db.internal/gpdoc?sslmode=verify-full' gpdoc backfill backlog.jsonl
//
// (the password comes from PGPASSWORD or ~/.pgpass, which pgx reads).
package open

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/postgres"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

// EnvLedger names the environment variable [Target] falls back to.
const EnvLedger = "GPDOC_LEDGER"

// Options configure [Open]; each applies to the implementations that have it.
type Options struct {
	// RunID names this run (this worker); empty: a new one.
	RunID string
	// ReadOnly opens for reading only.
	ReadOnly bool
	// LeaseTTL is the lease of a claim on PostgreSQL (0: 30 s).
	LeaseTTL time.Duration
	// Schema is the PostgreSQL schema of the tables (empty: the connection's
	// search_path).
	Schema string
}

// Target is the ledger target a command uses: flag if it is set, else
// $GPDOC_LEDGER (empty if neither is).
func Target(flag string) string {
	if flag != "" {
		return flag
	}
	return os.Getenv(EnvLedger)
}

// IsPostgres reports whether target names a PostgreSQL ledger.
func IsPostgres(target string) bool {
	t := strings.ToLower(target)
	return strings.HasPrefix(t, "postgres://") || strings.HasPrefix(t, "postgresql://")
}

// Describe names target for messages: the path, or the URL without its
// password.
func Describe(target string) string {
	if IsPostgres(target) {
		return postgres.Redact(target)
	}
	return target
}

// Open opens the ledger target names. The ledger is a [ledger.Lister] and a
// [ledger.ContentBlocker]; on PostgreSQL it is also a [ledger.BatchClaimer],
// and a [ledger.FleetStater], and its claims are
// leases (a claim can be [ledger.Busy]).
func Open(ctx context.Context, target string, opts Options) (ledger.Ledger, error) {
	switch {
	case target == "":
		return nil, fmt.Errorf("ledger: no ledger given: a file path, or a postgres:// URL (--ledger or $%s)", EnvLedger)
	case IsPostgres(target):
		return postgres.Open(ctx, target, postgres.Options{RunID: opts.RunID, ReadOnly: opts.ReadOnly,
			LeaseTTL: opts.LeaseTTL, Schema: opts.Schema})
	default:
		return sqlite.Open(ctx, target, sqlite.Options{RunID: opts.RunID, ReadOnly: opts.ReadOnly})
	}
}
