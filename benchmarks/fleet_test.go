package benchmarks

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpdoc/gpdoc/ledger/postgres/pgtest"
)

// TestMain stops the throw-away PostgreSQL cluster BenchmarkFleetWorkers starts.
func TestMain(m *testing.M) { pgtest.Main(m) }

// fleetMessages is the manifest size of one BenchmarkFleetWorkers run.
const fleetMessages = 1200

// fleetConcurrency is each worker's --concurrency.
const fleetConcurrency = 8

// BenchmarkFleetWorkers runs 1, 2 and 4 `gpdoc backfill` worker processes on one
// PostgreSQL ledger (pgtest: $GPDOC_TEST_POSTGRES or a throw-away cluster)
// over one manifest of small text messages, against `gpdoc sim --latency
// 50ms`, each worker with --concurrency 8 (and claims in batches of 8, or
// of 64 in the last case). It reports the fleet's
// messages/s (all workers started to the last one finished) and the ledger
// claim round trips per message (Summary.ClaimCalls over all workers, busy
// re-checks included). Run it with -benchtime 1x: each iteration is a whole
// backfill of 1200 messages in a fresh schema. Numbers: docs/scale-out.md.
func BenchmarkFleetWorkers(b *testing.B) {
	dsn := pgtest.DSN(b)
	url := startSim(b, "--latency", "50ms")
	dir := b.TempDir()
	man := filepath.Join(dir, "m.jsonl")
	var lines strings.Builder
	for i := range fleetMessages {
		content := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "Clinical note %d.\n", i))
		fmt.Fprintf(&lines, `{"route":"standard","sourceId":"fleet-%d","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"note %d"},"attachments":[{"fileName":"note.txt","mimeType":"text/plain","content":%q}]}`+"\n", i, i, content)
	}
	if err := os.WriteFile(man, []byte(lines.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	run := 0
	for _, c := range []struct{ workers, batch int }{{1, 0}, {2, 0}, {4, 0}, {4, 64}} {
		workers := c.workers
		name := fmt.Sprintf("workers=%d", workers)
		if c.batch > 0 {
			name += fmt.Sprintf(",batch=%d", c.batch)
		}
		b.Run(name, func(b *testing.B) {
			var elapsed time.Duration
			var claims, sent int64
			for range b.N {
				run++
				target := fleetSchema(b, dsn, fmt.Sprintf("gpdoc_bench_fleet_%d_%d", os.Getpid(), run))
				start := time.Now()
				errs := make(chan error, workers)
				outs, stderrs := make([]bytes.Buffer, workers), make([]bytes.Buffer, workers)
				for w := range workers {
					cmd := exec.Command(gpdoc(b), "backfill", "--url", url, "--ledger", target, "--worker-id", "bench-"+strconv.Itoa(w),
						"--concurrency", strconv.Itoa(fleetConcurrency), "--claim-batch", strconv.Itoa(c.batch),
						"--progress", "none", "--no-check", "--json", man)
					cmd.Env = append(os.Environ(), "CONNEQT_API_KEY=bench-key", "CONNEQT_ACCESS_TOKEN="+simToken)
					cmd.Stdout, cmd.Stderr = &outs[w], &stderrs[w]
					go func() {
						if err := cmd.Run(); err != nil {
							errs <- fmt.Errorf("worker %d: %v\n%s%s", w, err, outs[w].String(), stderrs[w].String())
							return
						}
						errs <- nil
					}()
				}
				for range workers {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
				elapsed += time.Since(start)
				for w := range workers {
					var s struct {
						Counts struct {
							Sent       int64 `json:"sent"`
							ClaimCalls int64 `json:"claimCalls"`
						} `json:"counts"`
					}
					if err := json.Unmarshal(lastJSON(outs[w].Bytes()), &s); err != nil {
						b.Fatalf("worker %d's summary: %v\n%s", w, err, outs[w].String())
					}
					claims += s.Counts.ClaimCalls
					sent += s.Counts.Sent
				}
			}
			n := int64(b.N) * fleetMessages
			if sent != n {
				b.Fatalf("the workers report %d sent, want %d", sent, n)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
			b.ReportMetric(float64(claims)/float64(n), "claims/msg")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// fleetSchema creates a schema for one run and returns dsn with it as the
// search_path; the schema is dropped when b ends.
func fleetSchema(b *testing.B, dsn, schema string) string {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	id := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+id); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+id+` CASCADE`)
			conn.Close(ctx)
		}
	})
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		b.Skip("the worker processes are given the ledger as a URL; this test's DSN is not one")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// lastJSON returns the last line of out that is a JSON object.
func lastJSON(out []byte) []byte {
	ls := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(ls) - 1; i >= 0; i-- {
		if bytes.HasPrefix(ls[i], []byte("{")) {
			return ls[i]
		}
	}
	return nil
}
