package metrics_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gpdoc/gpdoc/metrics"
	"github.com/gpdoc/gpdoc/pipeline"
)

func TestMetrics(t *testing.T) {
	m := metrics.New()
	m.Started()
	m.Started()
	m.Observe(pipeline.Event{Kind: pipeline.StageFinished, Stage: "validate", Elapsed: 3 * time.Millisecond})
	m.Observe(pipeline.Event{Kind: pipeline.DocumentFinished})
	m.Attempt("standard", 503, 20*time.Millisecond, true)
	m.Attempt("standard", 0, time.Second, true)
	m.Attempt("standard", 200, 10*time.Millisecond, false)
	m.Finished("sent", 1234)
	m.Finished("invalid", 0)
	m.TakeOver()

	want := `
# HELP gpdoc_messages_in_flight Messages inside the pipeline now.
# TYPE gpdoc_messages_in_flight gauge
gpdoc_messages_in_flight 1
# HELP gpdoc_messages_total Messages finished, by outcome (sent, invalid, failed-retryable, skipped...).
# TYPE gpdoc_messages_total counter
gpdoc_messages_total{outcome="invalid"} 1
gpdoc_messages_total{outcome="sent"} 1
# HELP gpdoc_send_retries_total Send attempts that were retried, by route and the status that caused the retry.
# TYPE gpdoc_send_retries_total counter
gpdoc_send_retries_total{route="standard",status="503"} 1
gpdoc_send_retries_total{route="standard",status="network"} 1
# HELP gpdoc_bytes_sent_total Bytes of message bodies the service accepted.
# TYPE gpdoc_bytes_sent_total counter
gpdoc_bytes_sent_total 1234
# HELP gpdoc_lease_takeovers_total Messages taken over from a worker whose lease had expired.
# TYPE gpdoc_lease_takeovers_total counter
gpdoc_lease_takeovers_total 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"gpdoc_messages_in_flight", "gpdoc_messages_total", "gpdoc_send_retries_total", "gpdoc_bytes_sent_total", "gpdoc_lease_takeovers_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.Registry(), "gpdoc_send_attempts_total"); n != 3 {
		t.Errorf("attempt series = %d, want 3 (200, 503, network)", n)
	}
	if n := testutil.CollectAndCount(m.Registry(), "gpdoc_stage_duration_seconds"); n != 1 {
		t.Errorf("stage series = %d, want 1", n)
	}
}

func TestServe(t *testing.T) {
	m := metrics.New()
	m.Finished("sent", 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `gpdoc_messages_total{outcome="sent"} 1`) || !strings.Contains(string(b), "go_goroutines") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
}
