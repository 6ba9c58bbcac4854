package benchmarks

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/internal/testpdf"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/stages/sizegate"
	"github.com/gpdoc/gpdoc/stages/validate"
	"github.com/gpdoc/gpdoc/transport"
)

// makePDF returns a valid one-page PDF of about size bytes: the page's
// content stream is padded with text-drawing operators.
func makePDF(size int) []byte { return testpdf.OfSize(size) }

// writeManifest writes n standard-route lines, each with one attachment
// given by path (the same file for every line, as far as the disk cache
// goes; each line reads it afresh).
func writeManifest(tb testing.TB, dir string, n int, attachment string) string {
	tb.Helper()
	path := filepath.Join(dir, "manifest.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, `{"route":"standard","sourceId":"bench-%d","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"Discharge letter %d"},"attachments":[{"fileName":"Discharge letter %d.pdf","mimeType":"application/pdf","path":%q}]}`+"\n",
			i, i, i, attachment)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

var (
	gpdocOnce sync.Once
	gpdocBin  string
	gpdocErr  error
)

// gpdoc builds the gpdoc command once.
func gpdoc(tb testing.TB) string {
	tb.Helper()
	gpdocOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gpdoc-bench-")
		if err != nil {
			gpdocErr = err
			return
		}
		gpdocBin = filepath.Join(dir, "gpdoc")
		out, err := exec.Command("go", "build", "-o", gpdocBin, "../cmd/gpdoc").CombinedOutput()
		if err != nil {
			gpdocErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if gpdocErr != nil {
		tb.Fatal(gpdocErr)
	}
	return gpdocBin
}

// simToken is the AccessToken the benchmarks' simulator grants.
const simToken = "bench-token"

// startSim runs `gpdoc sim` in its own process (so that the messages it
// stores do not count in this process's heap) and returns its URL. extra
// are more sim flags (e.g. --latency).
func startSim(tb testing.TB, extra ...string) string {
	tb.Helper()
	cmd := exec.Command(gpdoc(tb), append([]string{"sim", "--addr", "127.0.0.1:0", "--api-key", "bench-key", "--access-token", simToken, "--deliver-after", "0"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "conneQt simulator listening on "); ok {
			go io.Copy(io.Discard, stdout)
			return u
		}
	}
	tb.Fatal("gpdoc sim printed no URL")
	return ""
}

// heapPeak samples the live heap every millisecond until stopped.
type heapPeak struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchHeap() *heapPeak {
	h := &heapPeak{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	h.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-t.C:
			case <-h.stop:
				return
			}
		}
	})
	return h
}

func (h *heapPeak) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// drainServer is a loopback HTTP server that reads each message body and
// answers 200 with a status endpoint, doing nothing else: the cost of the
// far end removed, to show what gpdoc itself sustains.
func drainServer(tb testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"messageStatusEndpoint":"/api/v1/messages/x/status"}`)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkBackfill runs backfill.Run over 1,000 messages of one 200 KB PDF
// each, with concurrency 16 and a fresh SQLite ledger per run; the transport
// client sends over loopback. One op is the whole backfill; msg/s and the
// peak live heap of this process are reported.
//
// Far ends: sim is `gpdoc sim` in its own process (so the messages it
// stores are not in this heap); drain is a server that only reads the body.
// Pipelines: send-path is encode -> assemble -> (ledger) -> send, the
// backfill, ledger, wire encoding and HTTP machinery; checked adds validate
// and sanitise, which parse every PDF.
//
// BenchmarkBackfill/mixed is the realistic case: see benchmarkMixed.
func BenchmarkBackfill(b *testing.B) {
	b.Run("mixed", benchmarkMixed)
	const messages, concurrency = 1000, 16
	dir := b.TempDir()
	pdf := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(pdf, makePDF(200_000), 0o644); err != nil {
		b.Fatal(err)
	}
	manifestPath := writeManifest(b, dir, messages, pdf)
	v, err := validate.New(validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := sanitise.New(sanitise.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, far := range []string{"sim", "drain"} {
		b.Run(far, func(b *testing.B) {
			url := ""
			if far == "sim" {
				url = startSim(b)
			} else {
				url = drainServer(b)
			}
			client, err := transport.New(transport.Options{BaseURL: url, APIKey: "bench-key", MaxConcurrent: concurrency})
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			sendPath := pipeline.Pipeline{sizegate.New(), assemble.NewStage(), send.New(client)}
			checked := append(pipeline.Pipeline{v, s}, sendPath...)
			for _, bc := range []struct {
				name   string
				stages pipeline.Pipeline
			}{{"send-path", sendPath}, {"checked", checked}} {
				b.Run(bc.name, func(b *testing.B) {
					benchmarkRun(b, manifestPath, dir, bc.stages, messages, concurrency)
				})
			}
		})
	}
}

func benchmarkRun(b *testing.B, manifestPath, dir string, stages pipeline.Pipeline, messages, concurrency int) {
	var elapsed time.Duration
	var peak uint64
	runs := 0
	for b.Loop() {
		b.StopTimer()
		ledgerPath := filepath.Join(b.TempDir(), "ledger.db")
		l, err := sqlite.Open(context.Background(), ledgerPath, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(manifestPath)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		h := watchHeap()
		b.StartTimer()
		start := time.Now()
		sum, err := backfill.Run(context.Background(), backfill.Config{Manifest: f, BaseDir: dir,
			Pipeline: stages, Ledger: l, Concurrency: concurrency})
		elapsed += time.Since(start)
		b.StopTimer()
		peak = max(peak, h.done())
		f.Close()
		l.Close()
		if err != nil || sum.Sent != int64(messages) {
			b.Fatalf("run: %v; summary %+v", err, sum)
		}
		runs++
		b.StartTimer()
	}
	b.ReportMetric(float64(messages*runs)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
