package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema's versions: migrations[i] takes the schema from
// version i to i+1. They are applied in order, each once, under an advisory
// lock, so that many workers starting at once set the schema up once. A
// released version's migration is never edited: a change is a new one.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE IF NOT EXISTS gpdoc_messages (
	message_id      text PRIMARY KEY,
	source_id       text NOT NULL DEFAULT '',
	line            integer NOT NULL,
	hash            text NOT NULL,
	state           text NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'invalid',
	                    'failed-retryable', 'failed-permanent', 'rejected-content')),
	attempts        integer NOT NULL DEFAULT 0,
	problem         json,
	status_endpoint text NOT NULL DEFAULT '',
	run_id          text NOT NULL,
	lease_until     timestamptz,
	payload_sha256  text NOT NULL DEFAULT '',
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	finished_at     timestamptz
);
CREATE INDEX IF NOT EXISTS gpdoc_messages_state ON gpdoc_messages (state);
CREATE INDEX IF NOT EXISTS gpdoc_messages_leases ON gpdoc_messages (run_id) WHERE lease_until IS NOT NULL;
CREATE INDEX IF NOT EXISTS gpdoc_messages_finished ON gpdoc_messages (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS gpdoc_blocked_content (
	sha256     text PRIMARY KEY,
	message_id text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS gpdoc_workers (
	worker_id  text PRIMARY KEY,
	host       text NOT NULL,
	pid        integer NOT NULL,
	started_at timestamptz NOT NULL DEFAULT now(),
	seen_at    timestamptz NOT NULL DEFAULT now()
);
`,
}

// SchemaVersion is the schema version this package writes.
var SchemaVersion = len(migrations)

// schemaLock is the key of the transaction-scoped advisory lock the set-up
// takes, so that workers starting together do not race on CREATE TABLE.
const schemaLock = 0x67706c6564676572 // "gpledger"

// migrate brings the schema (in the connection's search_path) to
// [SchemaVersion], idempotently. A database at a newer version than this
// package knows is refused: an older gpdoc must not write to it.
func migrate(ctx context.Context, conn interface {
	BeginTx(context.Context, pgx.TxOptions) (pgx.Tx, error)
}, schema string) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(schemaLock)); err != nil {
		return err
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS gpdoc_meta (key text PRIMARY KEY, value text NOT NULL)`); err != nil {
		return err
	}
	version := 0
	var v string
	switch err := tx.QueryRow(ctx, `SELECT value FROM gpdoc_meta WHERE key = 'schema'`).Scan(&v); {
	case err == pgx.ErrNoRows:
	case err != nil:
		return err
	default:
		if version, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("schema version %q is not a number", v)
		}
	}
	if version > SchemaVersion {
		return fmt.Errorf("the ledger's schema is version %d, newer than this gpdoc knows (%d): upgrade gpdoc", version, SchemaVersion)
	}
	for i := version; i < SchemaVersion; i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("schema version %d: %w", i+1, err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO gpdoc_meta (key, value) VALUES ('schema', $1)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.Itoa(SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
