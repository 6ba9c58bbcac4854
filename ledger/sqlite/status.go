package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
)

// statusSchema is the migration to schema 3: the delivery status the
// service last gave for each message, and the times it was polled (for the
// service's limit of 4 polls per message per day), and the index `ledger
// list` pages by. It only adds tables and an index, so
// an older file is migrated in place when opened for writing; a file opened
// read-only before that reads as having no statuses.
const statusSchema = `
CREATE TABLE IF NOT EXISTS message_status (
	message_id TEXT PRIMARY KEY,
	status     TEXT NOT NULL DEFAULT '',
	sub_status TEXT NOT NULL DEFAULT '',
	reason     TEXT NOT NULL DEFAULT '',
	checked_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS status_polls (
	message_id TEXT NOT NULL,
	polled_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_polls_message ON status_polls (message_id, polled_at);
CREATE INDEX IF NOT EXISTS messages_line ON messages (line, message_id);
`

var (
	_ ledger.Lister      = (*Ledger)(nil)
	_ ledger.StatusStore = (*Ledger)(nil)
)

// listPage is how many entries List reads per query: it never holds the
// connection while fn runs, so fn may use the ledger.
const listPage = 500

// List implements [ledger.Lister]: every entry in manifest line order, then
// messageId, read a page at a time.
func (l *Ledger) List(ctx context.Context, fn func(ledger.Entry) error) error {
	line, id := -1, ""
	for {
		rows, err := l.db.QueryContext(ctx, `SELECT `+l.cols+` FROM messages
			WHERE line > ? OR (line = ? AND message_id > ?) ORDER BY line, message_id LIMIT ?`, line, line, id, listPage)
		if err != nil {
			return fmt.Errorf("ledger: list: %w", err)
		}
		page := make([]ledger.Entry, 0, listPage)
		for rows.Next() {
			e, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("ledger: list: %w", err)
			}
			page = append(page, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("ledger: list: %w", err)
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < listPage {
			return nil
		}
		last := page[len(page)-1]
		line, id = last.Line, last.MessageID
	}
}

// Status implements [ledger.StatusStore].
func (l *Ledger) Status(ctx context.Context, messageID string) (ledger.StatusRecord, error) {
	var r ledger.StatusRecord
	var checked string
	err := l.db.QueryRowContext(ctx, `SELECT status, sub_status, reason, checked_at FROM message_status WHERE message_id = ?`,
		messageID).Scan(&r.Status, &r.SubStatus, &r.Reason, &checked)
	switch {
	case errors.Is(err, sql.ErrNoRows), noSuchTable(err):
		return ledger.StatusRecord{}, nil
	case err != nil:
		return r, fmt.Errorf("ledger: status of %s: %w", messageID, err)
	}
	r.Checked, _ = time.Parse(time.RFC3339Nano, checked)
	rows, err := l.db.QueryContext(ctx, `SELECT polled_at FROM status_polls WHERE message_id = ? ORDER BY polled_at`, messageID)
	if err != nil {
		return r, fmt.Errorf("ledger: polls of %s: %w", messageID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return r, fmt.Errorf("ledger: polls of %s: %w", messageID, err)
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			r.Polls = append(r.Polls, t)
		}
	}
	return r, rows.Err()
}

// RecordPoll implements [ledger.StatusStore].
func (l *Ledger) RecordPoll(ctx context.Context, messageID string, at time.Time, st *ledger.StatusRecord) error {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	return l.tx(ctx, func(tx *sql.Tx) error {
		e, err := l.get(ctx, tx, messageID)
		if err != nil {
			return err
		}
		if e == nil {
			return fmt.Errorf("%w: %s", ledger.ErrNotFound, messageID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM status_polls WHERE message_id = ? AND polled_at <= ?`,
			messageID, stamp(at.Add(-ledger.PollWindow))); err != nil {
			return fmt.Errorf("ledger: record poll of %s: %w", messageID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_polls (message_id, polled_at) VALUES (?, ?)`, messageID, stamp(at)); err != nil {
			return fmt.Errorf("ledger: record poll of %s: %w", messageID, err)
		}
		if st == nil {
			_, err = tx.ExecContext(ctx, `INSERT INTO message_status (message_id) VALUES (?) ON CONFLICT (message_id) DO NOTHING`, messageID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO message_status (message_id, status, sub_status, reason, checked_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, sub_status = excluded.sub_status,
				reason = excluded.reason, checked_at = excluded.checked_at`,
				messageID, st.Status, st.SubStatus, st.Reason, stamp(at))
		}
		if err != nil {
			return fmt.Errorf("ledger: record status of %s: %w", messageID, err)
		}
		return nil
	})
}
