// Package sqlite is a [ledger.Ledger] in an SQLite database file, with the
// pure-Go driver modernc.org/sqlite (no cgo). It is gpdoc's default ledger:
// `gpdoc backfill` keeps one beside the manifest.
//
// The SQL is kept portable (TEXT and INTEGER columns, standard upserts and
// RETURNING, RFC 3339 text timestamps) so that a PostgreSQL ledger can share
// the schema with only the placeholders changed.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"

	"github.com/gpdoc/gpdoc/ledger"
)

// schema is the ledger's tables.
const schema = `
CREATE TABLE IF NOT EXISTS messages (
	message_id      TEXT PRIMARY KEY,
	source_id       TEXT NOT NULL DEFAULT '',
	line            INTEGER NOT NULL,
	hash            TEXT NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	problem         TEXT,
	status_endpoint TEXT NOT NULL DEFAULT '',
	run_id          TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	payload_sha256  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS messages_state ON messages (state);
CREATE TABLE IF NOT EXISTS blocked_content (
	sha256     TEXT PRIMARY KEY,
	message_id TEXT NOT NULL,
	created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`

// migrations bring a ledger written by an older gpdoc up to date, by the
// schema version in ledger_meta (a new file is created at the latest).
var migrations = []struct {
	version string
	stmt    string
}{
	// 2: the SHA-256 of the payload recorded at MarkSending.
	{"2", `ALTER TABLE messages ADD COLUMN payload_sha256 TEXT NOT NULL DEFAULT ''`},
	// 3: the delivery statuses polled from the service (status.go).
	{"3", statusSchema},
}

// schemaVersion is the latest schema.
const schemaVersion = "3"

const columns = `message_id, source_id, line, hash, state, attempts, problem, status_endpoint, run_id, created_at, updated_at, payload_sha256`

// columnsV1 reads a schema 1 file opened read-only (not migrated).
const columnsV1 = `message_id, source_id, line, hash, state, attempts, problem, status_endpoint, run_id, created_at, updated_at, '' AS payload_sha256`

// Ledger is a [ledger.Ledger] in an SQLite database file. It uses one connection in WAL mode with a busy timeout, so writes from
// many goroutines are serialised and each is one transaction; another process
// may read the file while a run writes it.
type Ledger struct {
	db    *sql.DB
	runID string
	now   func() time.Time
	lock  ledger.RunLock // nil for read-only handles
	cols  string         // the select list: columns, or columnsV1

	closeOnce sync.Once
	closeErr  error
}

var (
	_ ledger.Ledger         = (*Ledger)(nil)
	_ ledger.ContentBlocker = (*Ledger)(nil)
	_ ledger.Lister         = (*Ledger)(nil)
)

// Options configure [Open]. The zero value is ready to use.
type Options struct {
	// RunID names this run in the ledger; empty: a new random id.
	RunID string
	// BusyTimeout is how long a write waits for another process holding the
	// file (0: 10 s).
	BusyTimeout time.Duration
	// ReadOnly opens the file for reading only (ledger stats, status). A
	// read-only handle takes no run lock, so it works while a run holds one.
	ReadOnly bool
	// NoLock skips the run lock. Only for callers that make sure themselves
	// that no other run writes the file (tests of concurrent handles).
	NoLock bool
}

// LockPath is the lock file a run holds beside the ledger file at path.
func LockPath(path string) string { return path + ".lock" }

// Open opens (creating if needed) the ledger file at path.
//
// One run at a time: unless ReadOnly (or NoLock), Open first takes the run
// lock [LockPath] (see [ledger.LockFile]) and holds it until Close; if
// another run holds it, the error is a *ledger.LockedError naming that run
// (errors.Is(err, ledger.ErrLocked)).
//
// Durability: WAL mode with synchronous=NORMAL. Every committed write survives
// a crash or kill of the process; a power failure may lose the last writes,
// which is still safe, as a lost "sending" or "sent" only makes a re-run send
// again with the same messageId, which the service de-duplicates.
func Open(ctx context.Context, path string, opts Options) (*Ledger, error) {
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if opts.ReadOnly {
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
	}
	if !opts.ReadOnly {
		if err := createPrivate(path); err != nil {
			return nil, err
		}
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; database/sql queues the goroutines
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	l := &Ledger{db: db, runID: opts.RunID, now: time.Now, cols: columns}
	if l.runID == "" {
		l.runID = uuid.NewString()
	}
	if !opts.ReadOnly && !opts.NoLock {
		lock, err := ledger.LockFile(LockPath(path), ledger.NewHolder(l.runID))
		if err != nil {
			db.Close()
			return nil, err
		}
		l.lock = lock
	}
	if opts.ReadOnly {
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("ledger: open %s: %w", path, err)
		}
		if has, err := hasPayloadColumn(ctx, db); err == nil && !has {
			l.cols = columnsV1 // written by an older gpdoc; a run migrates it
		}
		return l, nil
	}
	if err := l.setUp(ctx); err != nil {
		l.Close()
		return nil, fmt.Errorf("ledger: set up %s: %w", path, err)
	}
	return l, nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// hasPayloadColumn reports whether the messages table has schema 2's
// payload_sha256 column.
func hasPayloadColumn(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('messages') WHERE name = 'payload_sha256'`).Scan(&n)
	return n > 0, err
}

// noSuchTable reports the error of a query on a table a file does not have
// (yet): an older schema, opened read-only.
func noSuchTable(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}

// setUp creates the tables and applies the migrations a file needs.
func (l *Ledger) setUp(ctx context.Context) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		var version string
		err := tx.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE key = 'schema'`).Scan(&version)
		if err != nil && !noSuchTable(err) && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if atoi(version) > atoi(schemaVersion) {
			return fmt.Errorf("the file is of schema %s, written by a newer gpdoc than this one (schema %s): use that gpdoc", version, schemaVersion)
		}
		fresh := version == ""
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return err
		}
		if fresh {
			// A new file, or one from before ledger_meta held a version:
			// tell them apart by the columns.
			has, err := hasPayloadColumn(ctx, tx)
			if err != nil {
				return err
			}
			version = "1"
			if has {
				version = "2" // the status tables are created IF NOT EXISTS
			}
		}
		for _, m := range migrations {
			if atoi(version) >= atoi(m.version) {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.stmt); err != nil {
				return fmt.Errorf("migrating to schema %s: %w", m.version, err)
			}
			version = m.version
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ledger_meta (key, value) VALUES ('schema', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, version)
		return err
	})
}

// RunID is the id this handle claims messages under.
func (l *Ledger) RunID() string { return l.runID }

func (l *Ledger) stamp() string { return l.now().UTC().Format(time.RFC3339Nano) }

// tx runs fn in one transaction (BEGIN IMMEDIATE: the write lock is taken up
// front, so there is no upgrade deadlock with another process).
func (l *Ledger) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: commit: %w", err)
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanEntry(row scanner) (ledger.Entry, error) {
	var e ledger.Entry
	var problem sql.NullString
	var state, created, updated string
	if err := row.Scan(&e.MessageID, &e.SourceID, &e.Line, &e.Hash, &state, &e.Attempts, &problem,
		&e.StatusEndpoint, &e.RunID, &created, &updated, &e.PayloadSHA256); err != nil {
		return ledger.Entry{}, err
	}
	e.State = ledger.State(state)
	if problem.Valid && problem.String != "" {
		e.Problem = json.RawMessage(problem.String)
	}
	e.Created, _ = time.Parse(time.RFC3339Nano, created)
	e.Updated, _ = time.Parse(time.RFC3339Nano, updated)
	return e, nil
}

func (l *Ledger) get(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (*ledger.Entry, error) {
	e, err := scanEntry(q.QueryRowContext(ctx, `SELECT `+l.cols+` FROM messages WHERE message_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", id, err)
	}
	return &e, nil
}

// Claim implements [ledger.Ledger].
func (l *Ledger) Claim(ctx context.Context, it ledger.Item, opts ledger.ClaimOptions) (ledger.Decision, error) {
	if it.MessageID == "" {
		return ledger.Decision{}, errors.New("ledger: claim without a messageId")
	}
	// Fast path for re-runs: a line that needs nothing (already sent, say)
	// is decided on a plain read, without taking the write lock.
	prev, err := l.get(ctx, l.db, it.MessageID)
	if err != nil {
		return ledger.Decision{}, err
	}
	if d := ledger.Decide(prev, it, l.runID, opts); d.Action != ledger.Process {
		return d, nil
	}
	var d ledger.Decision
	err = l.tx(ctx, func(tx *sql.Tx) error {
		prev, err := l.get(ctx, tx, it.MessageID)
		if err != nil {
			return err
		}
		d = ledger.Decide(prev, it, l.runID, opts)
		if d.Action != ledger.Process {
			return nil
		}
		now := l.now().UTC()
		stamp := now.Format(time.RFC3339Nano)
		if prev == nil {
			d.FirstClaimed, _ = time.Parse(time.RFC3339Nano, stamp)
			_, err = tx.ExecContext(ctx, `INSERT INTO messages (`+columns+`) VALUES (?, ?, ?, ?, ?, 0, NULL, '', ?, ?, ?, '')`,
				it.MessageID, it.SourceID, it.Line, it.Hash, string(ledger.Pending), l.runID, stamp, stamp)
		} else {
			d.FirstClaimed = prev.Created
			state := ledger.StateAfterClaim(prev)
			payload := prev.PayloadSHA256
			if state == ledger.Pending {
				payload = ""
			}
			_, err = tx.ExecContext(ctx, `UPDATE messages SET source_id = ?, line = ?, hash = ?, state = ?, run_id = ?, updated_at = ?, payload_sha256 = ? WHERE message_id = ?`,
				it.SourceID, it.Line, it.Hash, string(state), l.runID, stamp, payload, it.MessageID)
		}
		if err != nil {
			return fmt.Errorf("ledger: claim %s: %w", it.MessageID, err)
		}
		return nil
	})
	return d, err
}

// MarkSending implements [ledger.Ledger].
func (l *Ledger) MarkSending(ctx context.Context, messageID, payloadSHA256 string) (int, error) {
	var attempts int
	err := l.tx(ctx, func(tx *sql.Tx) error {
		var recorded string
		err := tx.QueryRowContext(ctx, `SELECT payload_sha256 FROM messages WHERE message_id = ? AND run_id = ?`,
			messageID, l.runID).Scan(&recorded)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ledger.ErrNotClaimed, messageID)
		}
		if err != nil {
			return fmt.Errorf("ledger: mark %s sending: %w", messageID, err)
		}
		if err := ledger.CheckPayload(messageID, recorded, payloadSHA256); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `UPDATE messages SET state = ?, attempts = attempts + 1, updated_at = ?, payload_sha256 = ?
			WHERE message_id = ? AND run_id = ? RETURNING attempts`,
			string(ledger.Sending), l.stamp(), payloadSHA256, messageID, l.runID).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %s", ledger.ErrNotClaimed, messageID)
		}
		if err != nil {
			return fmt.Errorf("ledger: mark %s sending: %w", messageID, err)
		}
		return nil
	})
	return attempts, err
}

// Finish implements [ledger.Ledger]. A message that is already sent stays sent.
func (l *Ledger) Finish(ctx context.Context, messageID string, o ledger.Outcome) error {
	if !o.State.Valid() {
		return fmt.Errorf("ledger: finish %s: unknown state %q", messageID, o.State)
	}
	var problem any
	if len(o.Problem) > 0 {
		if !json.Valid(o.Problem) {
			return fmt.Errorf("ledger: finish %s: problem is not JSON", messageID)
		}
		problem = string(o.Problem)
	}
	return l.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET state = ?, problem = ?,
			status_endpoint = CASE WHEN ? <> '' THEN ? ELSE status_endpoint END, updated_at = ?
			WHERE message_id = ? AND run_id = ? AND state <> ?`,
			string(o.State), problem, o.StatusEndpoint, o.StatusEndpoint, l.stamp(), messageID, l.runID, string(ledger.Sent))
		if err != nil {
			return fmt.Errorf("ledger: finish %s: %w", messageID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			e, err := l.get(ctx, tx, messageID)
			if err != nil {
				return err
			}
			if e != nil && e.State == ledger.Sent && e.RunID == l.runID {
				return nil
			}
			return fmt.Errorf("%w: %s", ledger.ErrNotClaimed, messageID)
		}
		return nil
	})
}

// BlockContent implements [ledger.ContentBlocker].
func (l *Ledger) BlockContent(ctx context.Context, messageID string, sha256s []string) error {
	return l.tx(ctx, func(tx *sql.Tx) error {
		now := l.stamp()
		for _, h := range sha256s {
			if _, err := tx.ExecContext(ctx, `INSERT INTO blocked_content (sha256, message_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT (sha256) DO NOTHING`, h, messageID, now); err != nil {
				return fmt.Errorf("ledger: block content of %s: %w", messageID, err)
			}
		}
		return nil
	})
}

// BlockedContent implements [ledger.ContentBlocker].
func (l *Ledger) BlockedContent(ctx context.Context, sha256s []string) ([]string, error) {
	var out []string
	for _, h := range sha256s {
		var n int
		if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM blocked_content WHERE sha256 = ?`, h).Scan(&n); err != nil {
			return nil, fmt.Errorf("ledger: blocked content: %w", err)
		}
		if n > 0 {
			out = append(out, h)
		}
	}
	return out, nil
}

// Get implements [ledger.Ledger].
func (l *Ledger) Get(ctx context.Context, messageID string) (ledger.Entry, error) {
	e, err := l.get(ctx, l.db, messageID)
	if err != nil {
		return ledger.Entry{}, err
	}
	if e == nil {
		return ledger.Entry{}, fmt.Errorf("%w: %s", ledger.ErrNotFound, messageID)
	}
	return *e, nil
}

// Stats implements [ledger.Ledger].
func (l *Ledger) Stats(ctx context.Context) (ledger.Stats, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM messages GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("ledger: stats: %w", err)
	}
	defer rows.Close()
	s := ledger.Stats{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("ledger: stats: %w", err)
		}
		s[ledger.State(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: stats: %w", err)
	}
	return s, nil
}

// Entries calls fn for every entry in messageId order, stopping at the first
// error fn returns. It is for reports and tests; a run never needs it.
func (l *Ledger) Entries(ctx context.Context, fn func(ledger.Entry) error) error {
	rows, err := l.db.QueryContext(ctx, `SELECT `+l.cols+` FROM messages ORDER BY message_id`)
	if err != nil {
		return fmt.Errorf("ledger: entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("ledger: entries: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Close implements [ledger.Ledger]: it checkpoints the WAL into the
// database file and releases the run lock.
// Closing twice is harmless.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		l.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		l.closeErr = l.db.Close()
		if l.lock != nil {
			// After the database is closed: the next run may start at once.
			l.closeErr = errors.Join(l.closeErr, l.lock.Release())
		}
	})
	return l.closeErr
}
