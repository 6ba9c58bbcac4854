package open_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/open"
	"github.com/gpdoc/gpdoc/ledger/postgres"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestIsPostgres(t *testing.T) {
	tests := []struct {
		target string
		want   bool
	}{
		{"postgres://db/gpdoc", true},
		{"postgresql://u:p@db:5432/gpdoc?sslmode=require", true},
		{"POSTGRES://db/gpdoc", true},
		{"backlog.jsonl.ledger.db", false},
		{"/var/lib/gpdoc/postgres/ledger.db", false},
		{"host=db dbname=gpdoc", false},
	}
	for _, tt := range tests {
		if got := open.IsPostgres(tt.target); got != tt.want {
			t.Errorf("IsPostgres(%q) = %v, want %v", tt.target, got, tt.want)
		}
	}
	if d := open.Describe("postgres://u:secret@db/gpdoc"); strings.Contains(d, "secret") {
		t.Errorf("Describe shows the password: %s", d)
	}
}

func TestTarget(t *testing.T) {
	t.Setenv(open.EnvLedger, "postgres://db/gpdoc")
	if got := open.Target("x.db"); got != "x.db" {
		t.Errorf("Target with a flag = %q", got)
	}
	if got := open.Target(""); got != "postgres://db/gpdoc" {
		t.Errorf("Target from the environment = %q", got)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := open.Open(ctx, "", open.Options{}); err == nil || !strings.Contains(err.Error(), open.EnvLedger) {
		t.Fatalf("Open without a target: %v", err)
	}
	l, err := open.Open(ctx, filepath.Join(t.TempDir(), "x.ledger.db"), open.Options{RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := l.(*sqlite.Ledger); !ok || s.RunID() != "r1" {
		t.Fatalf("a path opened %T", l)
	}
	l.Close()

	l, err = open.Open(ctx, pgtest.DSN(t), open.Options{RunID: "r2", Schema: pgtest.Schema(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if p, ok := l.(*postgres.Ledger); !ok || p.RunID() != "r2" || p.LeaseTTL() != postgres.DefaultLeaseTTL {
		t.Fatalf("a postgres URL opened %T", l)
	}
	if _, ok := l.(ledger.BatchClaimer); !ok {
		t.Fatal("the PostgreSQL ledger claims no batches")
	}
}
