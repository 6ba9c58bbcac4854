// Package postgres is a [ledger.Ledger] in a PostgreSQL database, shared by
// many workers: N `gpdoc backfill` processes on N machines over the same
// manifest, each line processed by one worker at a time. It uses
// github.com/jackc/pgx/v5 (pgxpool); no cgo.
//
// # Leases
//
// A claim is a lease: the entry's run_id is the claiming worker's run id and
// lease_until the time the claim expires, on the database's clock (workers'
// clocks may differ; the database's is the one they share). While a worker
// holds a lease, a heartbeat goroutine renews every lease it holds (one
// UPDATE per beat, every [Options.Heartbeat]). [ledger.Ledger.Finish]
// releases the lease, and so does [Ledger.Close] for lines claimed and not
// finished. A worker that dies (SIGKILL, a lost machine, a lost network)
// stops renewing; once its leases expire ([Options.LeaseTTL], default 30 s)
// another worker's claim takes the message over ([ledger.Decision.TakeOver])
// and sends it again under the same messageId, as a re-run after a crash
// does. Until then the others see [ledger.Busy] and leave it.
//
// The run id is the fence: MarkSending and Finish only write
// an entry whose run_id is still this worker's, so a worker whose lease was
// taken over (it was cut off from the database for longer than the TTL)
// gets [ledger.ErrLeaseLost] and never records an outcome over the new
// owner's. It may have sent already: the service de-duplicates on the
// messageId, and the payload hash MarkSending checks (ledger.CheckPayload)
// makes sure the new owner sends the same bytes.
//
// # Batches
//
// [Ledger.ClaimBatch] claims many lines in at most three round trips: one
// plain read decides the lines that need no claim (already sent, leased by
// another worker...), one INSERT ... ON CONFLICT DO NOTHING claims the new
// ones, and one transaction with SELECT ... FOR UPDATE SKIP LOCKED claims the
// rest, treating a row another worker is claiming at that moment as busy
// rather than waiting for it.
//
// # Schema
//
// Tables gpdoc_messages, gpdoc_blocked_content, gpdoc_workers and gpdoc_meta,
// in [Options.Schema] (created if missing) or the first schema of the
// connection's search_path. They are created on open, idempotently, under an
// advisory lock; gpdoc_meta records the schema version ([SchemaVersion]) and
// a database newer than this package is refused.
package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gpdoc/gpdoc/ledger"
)

// DefaultLeaseTTL is how long a claim lasts without a heartbeat.
const DefaultLeaseTTL = 30 * time.Second

// Options configure [Open]. The zero value is ready to use.
type Options struct {
	// RunID names this worker (this run) in the ledger; empty: host, PID and
	// a random suffix. Every process must have its own.
	RunID string
	// LeaseTTL is how long a claim lasts without renewal (0: 30 s). A worker
	// that dies holds its lines this long before another takes them over.
	LeaseTTL time.Duration
	// Heartbeat is how often the leases are renewed (0: LeaseTTL/3; below
	// zero: never, which only tests want: it makes a worker that has died).
	Heartbeat time.Duration
	// Schema is the PostgreSQL schema holding the tables, created if missing
	// (empty: the first schema on the connection's search_path, usually
	// public).
	Schema string
	// ReadOnly opens for reading only (ledger stats, list, status): no schema
	// set-up, no worker registered, and the session refuses writes.
	ReadOnly bool
	// MaxConns caps the connection pool (0: 8).
	MaxConns int32

	tracer pgx.QueryTracer // counts round trips in benchmarks
}

// Ledger is a [ledger.Ledger] in PostgreSQL, with leases. It is safe for
// concurrent use.
type Ledger struct {
	pool   *pgxpool.Pool
	runID  string
	ttl    time.Duration
	target string // the DSN without a password, for errors
	// opened is when this handle registered its worker, on the database's
	// clock: an entry under the same run id last written before it belongs
	// to an earlier process that used the same --worker-id (see ownPast).
	opened time.Time

	stop chan struct{}
	done chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var (
	_ ledger.Ledger         = (*Ledger)(nil)
	_ ledger.ContentBlocker = (*Ledger)(nil)
	_ ledger.BatchClaimer   = (*Ledger)(nil)
	_ ledger.Lister         = (*Ledger)(nil)
	_ ledger.FleetStater    = (*Ledger)(nil)
)

// Redact returns dsn with any password replaced by "xxxxx", for messages:
// the one in the user part and a password query parameter.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if q := u.Query(); q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return "(a PostgreSQL connection string)"
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string), sets up the schema unless opts.ReadOnly,
// registers the worker and starts its heartbeat.
func Open(ctx context.Context, dsn string, opts Options) (*Ledger, error) {
	l := &Ledger{runID: opts.RunID, ttl: opts.LeaseTTL, target: Redact(dsn),
		stop: make(chan struct{}), done: make(chan struct{})}
	if l.ttl <= 0 {
		l.ttl = DefaultLeaseTTL
	}
	beat := opts.Heartbeat
	if beat == 0 {
		beat = l.ttl / 3
	}
	if l.ttl < 10*time.Millisecond || beat >= l.ttl {
		return nil, fmt.Errorf("ledger: lease %v with a heartbeat every %v: the lease must be at least 10ms and the heartbeat shorter", l.ttl, beat)
	}
	if l.runID == "" {
		host, _ := os.Hostname()
		l.runID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the connection string: say only what.
		return nil, fmt.Errorf("ledger: %s is not a valid PostgreSQL connection string", l.target)
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 8
	}
	if opts.tracer != nil {
		cfg.ConnConfig.Tracer = opts.tracer
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = "gpdoc " + l.runID
	if opts.Schema != "" {
		rp["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if opts.ReadOnly {
		rp["default_transaction_read_only"] = "on"
	}
	l.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", l.target, err)
	}
	if opts.ReadOnly {
		close(l.done)
		if err := l.pool.Ping(ctx); err != nil {
			l.pool.Close()
			return nil, fmt.Errorf("ledger: open %s: %w", l.target, err)
		}
		return l, nil
	}
	if err := migrate(ctx, l.pool, opts.Schema); err != nil {
		l.pool.Close()
		return nil, fmt.Errorf("ledger: set up %s: %w", l.target, err)
	}
	host, _ := os.Hostname()
	if err := l.pool.QueryRow(ctx, `INSERT INTO gpdoc_workers (worker_id, host, pid) VALUES ($1, $2, $3)
		ON CONFLICT (worker_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, seen_at = now()
		RETURNING now()`,
		l.runID, host, os.Getpid()).Scan(&l.opened); err != nil {
		l.pool.Close()
		return nil, fmt.Errorf("ledger: register worker in %s: %w", l.target, err)
	}
	if beat > 0 {
		go l.heartbeat(beat)
	} else {
		close(l.done)
	}
	return l, nil
}

// RunID is the id this handle claims messages under (its worker id).
func (l *Ledger) RunID() string { return l.runID }

// LeaseTTL is how long this handle's claims last without renewal.
func (l *Ledger) LeaseTTL() time.Duration { return l.ttl }

func (l *Ledger) ttlMillis() int64 { return l.ttl.Milliseconds() }

// heartbeat renews this worker's leases every beat until Close. A beat that
// fails (the database is unreachable) is retried at the next; leases that
// expire meanwhile may be taken over, which MarkSending and Finish detect.
func (l *Ledger) heartbeat(beat time.Duration) {
	defer close(l.done)
	t := time.NewTicker(beat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), beat)
		l.renew(ctx)
		cancel()
	}
}

// renew extends every live lease of this worker by the TTL.
func (l *Ledger) renew(ctx context.Context) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE gpdoc_messages SET lease_until = now() + $2 * interval '1 millisecond'
		WHERE run_id = $1 AND lease_until IS NOT NULL`, l.runID, l.ttlMillis())
	b.Queue(`UPDATE gpdoc_workers SET seen_at = now() WHERE worker_id = $1`, l.runID)
	return l.pool.SendBatch(ctx, b).Close()
}

const columns = `message_id, source_id, line, hash, state, attempts, problem, status_endpoint, run_id,
	lease_until, payload_sha256, created_at, updated_at`

func scanEntry(row pgx.Row, extra ...any) (ledger.Entry, error) {
	var e ledger.Entry
	var state string
	var problem *string
	var lease *time.Time
	dest := []any{&e.MessageID, &e.SourceID, &e.Line, &e.Hash, &state, &e.Attempts, &problem,
		&e.StatusEndpoint, &e.RunID, &lease, &e.PayloadSHA256, &e.Created, &e.Updated}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return ledger.Entry{}, err
	}
	e.State = ledger.State(state)
	if problem != nil && *problem != "" {
		e.Problem = json.RawMessage(*problem)
	}
	if lease != nil {
		e.LeaseUntil = lease.UTC()
	}
	e.Created, e.Updated = e.Created.UTC(), e.Updated.UTC()
	return e, nil
}

type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// entries reads the entries of ids (FOR UPDATE SKIP LOCKED when lock), and
// the database's clock (zero when there is no entry).
func entries(ctx context.Context, q querier, ids []string, lock bool) (map[string]*ledger.Entry, time.Time, error) {
	sql := `SELECT ` + columns + `, now() FROM gpdoc_messages WHERE message_id = ANY($1)`
	if lock {
		sql += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := q.Query(ctx, sql, ids)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer rows.Close()
	m := make(map[string]*ledger.Entry, len(ids))
	var now time.Time
	for rows.Next() {
		e, err := scanEntry(rows, &now)
		if err != nil {
			return nil, time.Time{}, err
		}
		m[e.MessageID] = &e
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, err
	}
	// With no row, now stays zero: nothing is leased, so no decision needs
	// the clock, and a round trip is saved.
	return m, now.UTC(), nil
}

// Claim implements [ledger.Ledger]: a batch of one.
func (l *Ledger) Claim(ctx context.Context, it ledger.Item, opts ledger.ClaimOptions) (ledger.Decision, error) {
	ds, err := l.ClaimBatch(ctx, []ledger.Item{it}, opts)
	if err != nil {
		return ledger.Decision{}, err
	}
	return ds[0], nil
}

// ownPast returns prev as a claim decision must see it: an entry under
// this run id that was last written before this handle opened belongs to
// an earlier process that used the same worker id (a restarted worker).
// It is not this run's (Decide would take the line for a duplicate of one
// claimed in this run, and skip it): it is decided as another worker's,
// leased until its lease runs out, then taken over.
func (l *Ledger) ownPast(prev *ledger.Entry) *ledger.Entry {
	if prev == nil || prev.RunID != l.runID || !prev.Updated.Before(l.opened) {
		return prev
	}
	e := *prev
	e.RunID += " (an earlier process)"
	return &e
}

// claimed is the entry a claim for processing leaves.
func (l *Ledger) claimed(prev *ledger.Entry, it ledger.Item, now time.Time) *ledger.Entry {
	e := ledger.Entry{MessageID: it.MessageID, Created: now}
	if prev != nil {
		e = *prev
	}
	e.SourceID, e.Line, e.Hash, e.State, e.RunID = it.SourceID, it.Line, it.Hash, ledger.StateAfterClaim(prev), l.runID
	e.LeaseUntil, e.Updated = now.Add(l.ttl), now
	if e.State == ledger.Pending {
		e.PayloadSHA256 = ""
	}
	return &e
}

// ClaimBatch implements [ledger.BatchClaimer]. See the package documentation
// for its round trips. A line leased by another live worker, or being
// claimed by one at this moment, is [ledger.Busy].
func (l *Ledger) ClaimBatch(ctx context.Context, items []ledger.Item, opts ledger.ClaimOptions) ([]ledger.Decision, error) {
	if len(items) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(items))
	for i, it := range items {
		if it.MessageID == "" {
			return nil, fmt.Errorf("ledger: claim without a messageId (line %d, batch item %d)", it.Line, i)
		}
		ids = append(ids, it.MessageID)
	}
	ids = uniq(ids)
	// 1. A plain read decides the lines that need no write.
	cur, now, err := entries(ctx, l.pool, ids, false)
	if err != nil {
		return nil, fmt.Errorf("ledger: claim: %w", err)
	}
	ds := make([]ledger.Decision, len(items))
	need := map[string]bool{} // ids with a line to claim
	sim := maps(cur)
	for i, it := range items {
		prev := l.ownPast(sim[it.MessageID])
		ds[i] = ledger.DecideLeased(prev, it, l.runID, now, opts)
		if ds[i].Action == ledger.Process {
			need[it.MessageID] = true
			sim[it.MessageID] = l.claimed(prev, it, now)
		}
	}
	if len(need) == 0 {
		return ds, nil
	}
	// 2. New messages: one INSERT; a row another worker inserted first is
	// left to step 3. The rows go in messageId order: two workers inserting
	// overlapping batches wait for each other's keys in one order, never in
	// a cycle (a deadlock).
	var newIDs, newSrc, newHash []string
	var newLine []int32
	seen := map[string]bool{}
	for _, it := range items {
		if need[it.MessageID] && cur[it.MessageID] == nil && !seen[it.MessageID] {
			seen[it.MessageID] = true
			newIDs, newSrc, newHash = append(newIDs, it.MessageID), append(newSrc, it.SourceID), append(newHash, it.Hash)
			newLine = append(newLine, int32(it.Line))
		}
	}
	inserted := map[string]*ledger.Entry{}
	if len(newIDs) > 0 {
		rows, err := l.pool.Query(ctx, `INSERT INTO gpdoc_messages (message_id, source_id, line, hash, state, run_id, lease_until)
			SELECT u.id, u.src, u.line, u.hash, 'pending', $5, now() + $6 * interval '1 millisecond'
			FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[]) AS u(id, src, line, hash)
			ORDER BY u.id
			ON CONFLICT (message_id) DO NOTHING
			RETURNING `+columns+`, now()`, newIDs, newSrc, newLine, newHash, l.runID, l.ttlMillis())
		if err != nil {
			return nil, fmt.Errorf("ledger: claim: %w", err)
		}
		for rows.Next() {
			e, err := scanEntry(rows, &now)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger: claim: %w", err)
			}
			inserted[e.MessageID] = &e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: claim: %w", err)
		}
	}
	var rest []string
	for id := range need {
		if inserted[id] == nil {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest) // lock in one order
	// 3. Existing messages: lock what no one else is claiming, decide again
	// on what the lock shows, and write the claims.
	if len(rest) > 0 {
		if err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
			return l.claimLocked(ctx, tx, items, rest, need, inserted, ds, opts)
		}); err != nil {
			return nil, fmt.Errorf("ledger: claim: %w", err)
		}
	}
	// Lines claimed by the INSERT: the first of each id is processed, any
	// repeat in the batch is a duplicate of it.
	if len(inserted) > 0 {
		first := map[string]bool{}
		for i, it := range items {
			e := inserted[it.MessageID]
			if e == nil {
				continue
			}
			if !first[it.MessageID] {
				first[it.MessageID] = true
				ds[i] = ledger.Decision{Action: ledger.Process, FirstClaimed: e.Created}
				continue
			}
			ds[i] = ledger.DecideLeased(e, it, l.runID, now, opts)
		}
	}
	return ds, nil
}

// claimLocked is step 3 of ClaimBatch, in transaction tx: it locks the rows
// of rest that no other transaction holds, decides again on what they show,
// and writes the claims. A row another transaction holds is busy.
func (l *Ledger) claimLocked(ctx context.Context, tx pgx.Tx, items []ledger.Item, rest []string,
	need map[string]bool, inserted map[string]*ledger.Entry, ds []ledger.Decision, opts ledger.ClaimOptions) error {
	cur, now, err := entries(ctx, tx, rest, true)
	if err != nil {
		return err
	}
	var uID, uSrc, uHash, uState []string
	var uLine []int32
	for i, it := range items {
		id := it.MessageID
		if !need[id] || inserted[id] != nil {
			continue
		}
		prev := l.ownPast(cur[id])
		if prev == nil {
			ds[i] = ledger.Decision{Action: ledger.Busy, Reason: "another worker is claiming it at this moment"}
			continue
		}
		ds[i] = ledger.DecideLeased(prev, it, l.runID, now, opts)
		if ds[i].Action == ledger.Process {
			ds[i].FirstClaimed = prev.Created
			cur[id] = l.claimed(prev, it, now)
			uID, uSrc, uHash, uState = append(uID, id), append(uSrc, it.SourceID), append(uHash, it.Hash), append(uState, string(cur[id].State))
			uLine = append(uLine, int32(it.Line))
		}
	}
	if len(uID) == 0 {
		return nil
	}
	// An entry the claim leaves pending forgets its payload hash: nothing
	// under the id can have been delivered.
	_, err = tx.Exec(ctx, `UPDATE gpdoc_messages AS m SET source_id = u.src, line = u.line, hash = u.hash,
		state = u.state, run_id = $6,
		payload_sha256 = CASE WHEN u.state = 'pending' THEN '' ELSE m.payload_sha256 END, lease_until = now() + $7 * interval '1 millisecond', updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[]) AS u(id, src, line, hash, state)
		WHERE m.message_id = u.id`, uID, uSrc, uLine, uHash, uState, l.runID, l.ttlMillis())
	return err
}

func uniq(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}

func maps(m map[string]*ledger.Entry) map[string]*ledger.Entry {
	c := make(map[string]*ledger.Entry, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// lost explains why a write for a message this worker does not hold found
// nothing: the lease was taken over ([ledger.ErrLeaseLost]) or the message
// was never claimed by this run.
func (l *Ledger) lost(ctx context.Context, messageID string) error {
	var owner string
	err := l.pool.QueryRow(ctx, `SELECT run_id FROM gpdoc_messages WHERE message_id = $1`, messageID).Scan(&owner)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w: %s", ledger.ErrNotClaimed, messageID)
	case err != nil:
		return fmt.Errorf("ledger: %s: %w", messageID, err)
	case owner != l.runID:
		return fmt.Errorf("%w: %w: %s is now held by worker %s", ledger.ErrLeaseLost, ledger.ErrNotClaimed, messageID, owner)
	}
	return fmt.Errorf("%w: %s", ledger.ErrNotClaimed, messageID)
}

// MarkSending implements [ledger.Ledger]; it also renews the lease. It
// records payloadSHA256 as the message's payload, or refuses with a
// *ledger.PayloadConflictError (writing nothing) when another payload was
// recorded since the entry was last pending.
func (l *Ledger) MarkSending(ctx context.Context, messageID, payloadSHA256 string) (int, error) {
	var attempts int
	err := l.pool.QueryRow(ctx, `UPDATE gpdoc_messages SET state = 'sending', attempts = attempts + 1, updated_at = now(),
		lease_until = now() + $3 * interval '1 millisecond', payload_sha256 = $4
		WHERE message_id = $1 AND run_id = $2 AND (payload_sha256 = '' OR payload_sha256 = $4)
		RETURNING attempts`, messageID, l.runID, l.ttlMillis(), payloadSHA256).Scan(&attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		var owner, recorded string
		qerr := l.pool.QueryRow(ctx, `SELECT run_id, payload_sha256 FROM gpdoc_messages WHERE message_id = $1`, messageID).Scan(&owner, &recorded)
		if qerr == nil && owner == l.runID {
			if err := ledger.CheckPayload(messageID, recorded, payloadSHA256); err != nil {
				return 0, err
			}
		}
		return 0, l.lost(ctx, messageID)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: mark %s sending: %w", messageID, err)
	}
	return attempts, nil
}

// Finish implements [ledger.Ledger]; it releases the lease. A message that is
// already sent stays sent.
func (l *Ledger) Finish(ctx context.Context, messageID string, o ledger.Outcome) error {
	if !o.State.Valid() {
		return fmt.Errorf("ledger: finish %s: unknown state %q", messageID, o.State)
	}
	var problem *string
	if len(o.Problem) > 0 {
		if !json.Valid(o.Problem) {
			return fmt.Errorf("ledger: finish %s: problem is not JSON", messageID)
		}
		p := string(o.Problem)
		problem = &p
	}
	var state string
	err := l.pool.QueryRow(ctx, `WITH target AS (
			SELECT message_id, state AS old FROM gpdoc_messages WHERE message_id = $1 AND run_id = $2 FOR UPDATE
		)
		UPDATE gpdoc_messages AS m SET
			state = CASE WHEN t.old = 'sent' THEN 'sent' ELSE $3 END,
			problem = CASE WHEN t.old = 'sent' THEN m.problem ELSE $4::json END,
			status_endpoint = CASE WHEN t.old <> 'sent' AND $5 <> '' THEN $5 ELSE m.status_endpoint END,
			updated_at = CASE WHEN t.old = 'sent' THEN m.updated_at ELSE now() END,
			finished_at = CASE WHEN t.old = 'sent' THEN m.finished_at ELSE now() END,
			lease_until = NULL
		FROM target AS t WHERE m.message_id = t.message_id
		RETURNING m.state`, messageID, l.runID, string(o.State), problem, o.StatusEndpoint).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return l.lost(ctx, messageID)
	}
	if err != nil {
		return fmt.Errorf("ledger: finish %s: %w", messageID, err)
	}
	return nil
}

// Get implements [ledger.Ledger].
func (l *Ledger) Get(ctx context.Context, messageID string) (ledger.Entry, error) {
	e, err := scanEntry(l.pool.QueryRow(ctx, `SELECT `+columns+` FROM gpdoc_messages WHERE message_id = $1`, messageID))
	if errors.Is(err, pgx.ErrNoRows) {
		return ledger.Entry{}, fmt.Errorf("%w: %s", ledger.ErrNotFound, messageID)
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("ledger: read %s: %w", messageID, err)
	}
	return e, nil
}

// Stats implements [ledger.Ledger].
func (l *Ledger) Stats(ctx context.Context) (ledger.Stats, error) {
	rows, err := l.pool.Query(ctx, `SELECT state, count(*) FROM gpdoc_messages GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("ledger: stats: %w", err)
	}
	s := ledger.Stats{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		s[ledger.State(state)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: stats: %w", err)
	}
	return s, nil
}

// idleWorker is how long FleetStats lists a registered worker that is the
// last claimant of no entry after its last heartbeat.
const idleWorker = 10 * time.Minute

// FleetStats implements [ledger.FleetStater]: counts by worker and state,
// live leases, and messages finished and sent in the last minute, on the
// database's clock. A registered worker that is the last claimant of no
// entry is listed, with zero counts, while it is alive (heard from in the
// last ten minutes).
func (l *Ledger) FleetStats(ctx context.Context) (ledger.Fleet, error) {
	var f ledger.Fleet
	by := map[string]*ledger.WorkerStats{}
	worker := func(id string) *ledger.WorkerStats {
		w := by[id]
		if w == nil {
			w = &ledger.WorkerStats{Worker: id, States: ledger.Stats{}}
			by[id] = w
		}
		return w
	}
	err := pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&f.At); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT run_id, state, count(*),
				count(*) FILTER (WHERE lease_until > now() AND state NOT IN ('sent', 'invalid', 'rejected-content')),
				count(*) FILTER (WHERE finished_at > now() - interval '1 minute'),
				count(*) FILTER (WHERE finished_at > now() - interval '1 minute' AND state = 'sent')
			FROM gpdoc_messages GROUP BY run_id, state`)
		if err != nil {
			return err
		}
		var id, state string
		var n, leased, fin, sent int
		if _, err := pgx.ForEachRow(rows, []any{&id, &state, &n, &leased, &fin, &sent}, func() error {
			w := worker(id)
			w.States[ledger.State(state)] += n
			w.Leased += leased
			w.FinishedLastMinute += fin
			w.SentLastMinute += sent
			return nil
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT worker_id, host, pid, started_at, seen_at FROM gpdoc_workers`)
		if err != nil {
			return err
		}
		var host string
		var pid int
		var started, seen time.Time
		_, err = pgx.ForEachRow(rows, []any{&id, &host, &pid, &started, &seen}, func() error {
			w := worker(id)
			w.Host, w.PID, w.Started, w.Seen = host, pid, started.UTC(), seen.UTC()
			return nil
		})
		return err
	})
	if err != nil {
		return ledger.Fleet{}, fmt.Errorf("ledger: fleet stats: %w", err)
	}
	f.At = f.At.UTC()
	for _, w := range by {
		if w.States.Total() == 0 && f.At.Sub(w.Seen) > idleWorker {
			continue // a worker of an earlier run that claimed nothing
		}
		f.Workers = append(f.Workers, *w)
		f.Leased += w.Leased
		f.SentLastMinute += w.SentLastMinute
		f.FinishedLastMinute += w.FinishedLastMinute
	}
	slices.SortFunc(f.Workers, func(a, b ledger.WorkerStats) int { return strings.Compare(a.Worker, b.Worker) })
	return f, nil
}

// List implements [ledger.Lister]; the entries are streamed, not loaded.
func (l *Ledger) List(ctx context.Context, fn func(ledger.Entry) error) error {
	rows, err := l.pool.Query(ctx, `SELECT `+columns+` FROM gpdoc_messages ORDER BY line, message_id`)
	if err != nil {
		return fmt.Errorf("ledger: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("ledger: list: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: list: %w", err)
	}
	return nil
}

// BlockContent implements [ledger.ContentBlocker].
func (l *Ledger) BlockContent(ctx context.Context, messageID string, sha256s []string) error {
	if len(sha256s) == 0 {
		return nil
	}
	if _, err := l.pool.Exec(ctx, `INSERT INTO gpdoc_blocked_content (sha256, message_id)
		SELECT h, $2 FROM unnest($1::text[]) AS h ORDER BY h ON CONFLICT (sha256) DO NOTHING`, sha256s, messageID); err != nil {
		return fmt.Errorf("ledger: block content of %s: %w", messageID, err)
	}
	return nil
}

// BlockedContent implements [ledger.ContentBlocker]; the result keeps the
// order of sha256s.
func (l *Ledger) BlockedContent(ctx context.Context, sha256s []string) ([]string, error) {
	if len(sha256s) == 0 {
		return nil, nil
	}
	rows, err := l.pool.Query(ctx, `SELECT sha256 FROM gpdoc_blocked_content WHERE sha256 = ANY($1)`, sha256s)
	if err != nil {
		return nil, fmt.Errorf("ledger: blocked content: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("ledger: blocked content: %w", err)
	}
	var out []string
	for _, h := range sha256s {
		if slices.Contains(found, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Release gives up this worker's leases on the lines it claimed and did not
// finish, so that other workers may take them at once. Close calls it.
func (l *Ledger) Release(ctx context.Context) error {
	if _, err := l.pool.Exec(ctx, `UPDATE gpdoc_messages SET lease_until = NULL
		WHERE run_id = $1 AND lease_until IS NOT NULL`, l.runID); err != nil {
		return fmt.Errorf("ledger: release leases: %w", err)
	}
	return nil
}

// Close implements [ledger.Ledger]: it stops the heartbeat, releases the
// leases still held and closes the pool. Closing twice is harmless.
func (l *Ledger) Close() error {
	l.closeOnce.Do(func() {
		select {
		case <-l.done: // read-only, or no heartbeat
		default:
			close(l.stop)
			<-l.done
		}
		cfg := l.pool.Config().ConnConfig.RuntimeParams
		if cfg["default_transaction_read_only"] != "on" {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			l.closeErr = l.Release(ctx)
			cancel()
		}
		l.pool.Close()
	})
	return l.closeErr
}

// abandon stops the heartbeat and closes the pool without releasing the
// leases: what a SIGKILL leaves. For tests.
func (l *Ledger) abandon() {
	l.closeOnce.Do(func() {
		select {
		case <-l.done:
		default:
			close(l.stop)
			<-l.done
		}
		l.pool.Close()
	})
}
