package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/benchmarks/mixed"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
)

// mixedLines is the length of the mixed manifest (benchmarks/mixed: letters,
// scans, phone photos, screenshots, notes, GP Connect reports).
const mixedLines = 1000

// mixedCorpus generates the mixed backlog once per machine (it is cached
// under the temporary folder: generating the photos takes tens of seconds).
func mixedCorpus(tb testing.TB) *mixed.Files {
	tb.Helper()
	f, err := mixed.Write(filepath.Join(os.TempDir(), "gpdoc-bench-mixed"), mixedLines)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// stageTimes sums the time spent in each stage, from the Runner's events.
type stageTimes struct {
	mu sync.Mutex
	d  map[string]time.Duration
}

func (s *stageTimes) Observe(e pipeline.Event) {
	if e.Kind != pipeline.StageFinished {
		return
	}
	s.mu.Lock()
	s.d[e.Stage] += e.Elapsed
	s.mu.Unlock()
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchmarkMixed runs gpdoc's default pipeline (every check, sanitising,
// rendering, downsampling) over the mixed backlog against `gpdoc sim` in its
// own process, with concurrency 16 and a fresh SQLite ledger per run. It
// reports messages/s, CPU milliseconds per message of this process
// (user+sys), the peak heap (under the CLI's default soft memory limit), and for each stage the time documents
// spent in it per message (summed over concurrent documents: where the
// time goes, not wall time).
func benchmarkMixed(b *testing.B) {
	const concurrency = 16
	corpus := mixedCorpus(b)
	url := startSim(b)
	client, err := transport.New(transport.Options{BaseURL: url, APIKey: "bench-key", AccessToken: simToken, MaxConcurrent: concurrency})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	p, err := stages.Default(stages.Options{Sender: client})
	if err != nil {
		b.Fatal(err)
	}
	// The soft heap limit the CLI sets by default (--memory-limit 100MiB),
	// so that the peak heap is the CLI's.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	times := &stageTimes{d: map[string]time.Duration{}}
	var elapsed, cpu time.Duration
	var peak uint64
	runs := 0
	for b.Loop() {
		b.StopTimer()
		l, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(corpus.Manifest)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		h := watchHeap()
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		sum, err := backfill.Run(context.Background(), backfill.Config{Manifest: f, BaseDir: corpus.Dir,
			Pipeline: p, Ledger: l, Concurrency: concurrency, Observer: times})
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		peak = max(peak, h.done())
		f.Close()
		l.Close()
		if err != nil || sum.Sent != int64(corpus.Lines) {
			b.Fatalf("run: %v; summary %+v", err, sum.Counts)
		}
		runs++
		b.StartTimer()
	}
	n := float64(corpus.Lines * runs)
	b.ReportMetric(n/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms/msg")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	names := make([]string, 0, len(times.d))
	for k := range times.d {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b.ReportMetric(float64(times.d[k].Microseconds())/1000/n, k+"-ms/msg")
	}
}
