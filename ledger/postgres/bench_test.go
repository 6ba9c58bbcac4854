package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
)

// counter is a pgx.QueryTracer counting statements (each one round trip;
// BEGIN and COMMIT included).
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkFleet: W workers (handles, each with its own pool) walk the same
// manifest of b.N lines from its start, as a fleet started together does,
// claiming one line at a time or in batches, and mark and finish every line
// they get. It reports messages per second for the whole fleet and the
// claim round trips per message (statements other than the one MarkSending
// and one Finish each message costs). Ledger work only: no pipeline, no
// network to a service.
func BenchmarkFleet(b *testing.B) {
	pgtest.DSN(b)
	for _, batch := range []int{1, 100} {
		for _, workers := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("batch=%d/workers=%d", batch, workers), func(b *testing.B) {
				fleet(b, batch, workers)
			})
		}
	}
}

func fleet(b *testing.B, batch, workers int) {
	ctx := context.Background()
	schema := pgtest.Schema(b)
	items := make([]ledger.Item, b.N)
	for i := range items {
		items[i] = ledger.Item{MessageID: fmt.Sprintf("m%09d", i), Line: i + 1, Hash: "h"}
	}
	c := &counter{}
	ls := make([]*Ledger, workers)
	for w := range ls {
		ls[w] = open(b, schema, Options{RunID: fmt.Sprintf("w%d", w), tracer: c})
	}
	c.n.Store(0)
	var processed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for _, l := range ls {
		wg.Go(func() {
			for {
				busy := 0
				for i := 0; i < len(items); i += batch {
					ds, err := l.ClaimBatch(ctx, items[i:min(i+batch, len(items))], ledger.ClaimOptions{})
					if err != nil {
						b.Error(err)
						return
					}
					for j, d := range ds {
						switch d.Action {
						case ledger.Busy:
							busy++
						case ledger.Process:
							id := items[i+j].MessageID
							if _, err := l.MarkSending(ctx, id, payloadOf(id)); err != nil {
								b.Error(err)
								return
							}
							if err := l.Finish(ctx, id, ledger.Outcome{State: ledger.Sent}); err != nil {
								b.Error(err)
								return
							}
							processed.Add(1)
						}
					}
				}
				if busy == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if int(processed.Load()) != b.N {
		b.Fatalf("%d messages processed, want %d", processed.Load(), b.N)
	}
	claimRT := float64(c.n.Load()-2*processed.Load()) / float64(b.N)
	b.ReportMetric(claimRT, "claim-rt/msg")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}
