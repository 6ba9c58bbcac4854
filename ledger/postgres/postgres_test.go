package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/ledgertest"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a handle on schema of the test server, closed at the end of t.
func open(t testing.TB, schema string, opts Options) *Ledger {
	t.Helper()
	opts.Schema = schema
	l, err := Open(context.Background(), pgtest.DSN(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestConformance(t *testing.T) {
	pgtest.DSN(t)
	ledgertest.Run(t, func(t *testing.T) ledgertest.Opener {
		schema := pgtest.Schema(t)
		return func(t *testing.T) ledger.Ledger { return open(t, schema, Options{}) }
	})
}

func TestLeases(t *testing.T) {
	pgtest.DSN(t)
	ledgertest.RunLeases(t, func(t *testing.T) ledgertest.LeaseOpener {
		schema := pgtest.Schema(t)
		return func(t *testing.T, o ledgertest.LeaseOptions) ledger.Ledger {
			opts := Options{RunID: o.RunID, LeaseTTL: o.TTL}
			if o.NoHeartbeat {
				opts.Heartbeat = -1
			}
			return open(t, schema, opts)
		}
	})
}

// TestSchemaVersion: opening is idempotent (many workers start at once), and
// a database written by a newer gpdoc is refused.
func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.Schema(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			l, err := Open(ctx, pgtest.DSN(t), Options{Schema: schema})
			if err == nil {
				err = l.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	l := open(t, schema, Options{})
	if _, err := l.pool.Exec(ctx, `UPDATE gpdoc_meta SET value = $1 WHERE key = 'schema'`, fmt.Sprint(SchemaVersion+1)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, pgtest.DSN(t), Options{Schema: schema})
	if err == nil || !strings.Contains(err.Error(), "newer than this gpdoc") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.Schema(t)
	l := open(t, schema, Options{})
	if _, err := l.Claim(ctx, ledger.Item{MessageID: "m1", Line: 1, Hash: "h"}, ledger.ClaimOptions{}); err != nil {
		t.Fatal(err)
	}
	ro := open(t, schema, Options{ReadOnly: true})
	if s, err := ro.Stats(ctx); err != nil || s[ledger.Pending] != 1 {
		t.Fatalf("read-only stats %v %v", s, err)
	}
	if _, err := ro.Claim(ctx, ledger.Item{MessageID: "m2", Line: 2, Hash: "h"}, ledger.ClaimOptions{}); err == nil {
		t.Fatal("a read-only ledger took a write")
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tests := []struct{ name, dsn, want string }{
		{"not a DSN", "postgres://user:secret@[::1", "not a valid PostgreSQL connection string"},
		{"no server", "postgres://user:secret@127.0.0.1:1/x?connect_timeout=5", "127.0.0.1:1"},
	}
	if _, err := Open(ctx, "postgres://127.0.0.1:1/x", Options{LeaseTTL: time.Second, Heartbeat: time.Second}); err == nil || !strings.Contains(err.Error(), "heartbeat shorter") {
		t.Errorf("a heartbeat as long as the lease: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(ctx, tt.dsn, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open(%q) = %v, want an error with %q", tt.dsn, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

// TestAbandonedLeasesStay: a worker that dies (no Close) leaves its leases
// until they expire; one that closes releases them.
func TestAbandonedLeasesStay(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.Schema(t)
	a := open(t, schema, Options{RunID: "a", LeaseTTL: time.Hour})
	if _, err := a.ClaimBatch(ctx, []ledger.Item{{MessageID: "m1", Hash: "h"}, {MessageID: "m2", Hash: "h"}}, ledger.ClaimOptions{}); err != nil {
		t.Fatal(err)
	}
	a.abandon()
	b := open(t, schema, Options{RunID: "b"})
	ds, err := b.ClaimBatch(ctx, []ledger.Item{{MessageID: "m1", Hash: "h"}, {MessageID: "m2", Hash: "h"}}, ledger.ClaimOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.Action != ledger.Busy || !strings.Contains(d.Reason, "worker a") {
			t.Fatalf("claim of a dead worker's unexpired lease: %v (%s)", d.Action, d.Reason)
		}
	}
	f, err := b.FleetStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.Leased != 2 || len(f.Workers) != 2 || f.Workers[0].Worker != "a" || f.Workers[0].Leased != 2 || f.Workers[0].PID == 0 {
		t.Fatalf("fleet %+v", f)
	}
	if _, err := b.MarkSending(ctx, "m1", payloadOf("m1")); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("MarkSending of another worker's message: %v", err)
	}
}

// payloadOf is a stand-in payload SHA-256 (hex) for a message's bytes.
func payloadOf(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return hex.EncodeToString(sum[:])
}
