package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/postgres"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
	"github.com/gpdoc/gpdoc/pipeline"
)

func manifest(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"route":"standard","sourceId":"letter-%d","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"Letter"},"attachments":[{"fileName":"a.txt","mimeType":"text/plain","content":"aGVsbG8="}]}`+"\n", i)
	}
	return b.String()
}

// service is a fake far end: it counts the sends of every messageId.
type service struct {
	mu    sync.Mutex
	sends map[string]int
}

func (s *service) stage() pipeline.Stage {
	return pipeline.MessageFunc("send", func(_ context.Context, doc *pipeline.Document) error {
		time.Sleep(time.Millisecond) // a little latency, so that workers overlap
		s.mu.Lock()
		s.sends[doc.Message.MessageID]++
		s.mu.Unlock()
		doc.StatusEndpoint = "https://example.org/api/v1/messages/" + doc.Message.MessageID + "/status"
		return nil
	})
}

// TestBackfillWorkers runs backfill.Run, unchanged, as three workers on one
// PostgreSQL ledger over the same manifest at once, then re-runs until every
// line is sent: every message is sent exactly once. (Backfill does not count
// busy lines yet: the re-runs stand in for that.)
func TestBackfillWorkers(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgtest.DSN(t), pgtest.Schema(t)
	const lines = 120
	m := manifest(lines)
	svc := &service{sends: map[string]int{}}
	run := func(worker string) error {
		l, err := postgres.Open(ctx, dsn, postgres.Options{RunID: worker, Schema: schema})
		if err != nil {
			return err
		}
		defer l.Close()
		_, err = backfill.Run(ctx, backfill.Config{Manifest: strings.NewReader(m),
			Pipeline: pipeline.Pipeline{svc.stage()}, Ledger: l, Concurrency: 4})
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for w := range 3 {
		wg.Go(func() { errs <- run(fmt.Sprintf("worker-%d", w)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	check, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	for rerun := 0; ; rerun++ {
		s, err := check.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s[ledger.Sent] == lines {
			break
		}
		if rerun == 5 {
			t.Fatalf("after 5 re-runs: %v", s)
		}
		if err := run(fmt.Sprintf("rerun-%d", rerun)); err != nil {
			t.Fatal(err)
		}
	}
	if len(svc.sends) != lines {
		t.Fatalf("%d messages sent, want %d", len(svc.sends), lines)
	}
	for id, n := range svc.sends {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	f, err := check.FleetStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range f.Workers {
		t.Logf("%s: %d sent", w.Worker, w.States[ledger.Sent])
	}
}
