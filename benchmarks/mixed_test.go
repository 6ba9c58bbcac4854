package benchmarks

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
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

// stageCPU runs run under a CPU profile and returns the CPU time of its
// samples per pipeline stage (the pprof label pipeline.StageLabel the
// Runner sets; "" for work outside any stage: the manifest, the ledger,
// the HTTP connections' own goroutines, the garbage collector's workers).
// It returns nil when the CPU profiler is already in use (go test
// -cpuprofile): then run still runs.
func stageCPU(tb testing.TB, run func()) map[string]time.Duration {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		tb.Logf("no per-stage CPU (%v): use the -cpuprofile file with pprof -tags", err)
		run()
		return nil
	}
	run()
	pprof.StopCPUProfile()
	prof, err := profile.Parse(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	cpu := -1
	for i, st := range prof.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			cpu = i
		}
	}
	if cpu < 0 {
		tb.Fatalf("the CPU profile has no cpu/nanoseconds sample type: %v", prof.SampleType)
	}
	byStage := map[string]time.Duration{}
	for _, s := range prof.Sample {
		stage := ""
		if v := s.Label[pipeline.StageLabel]; len(v) > 0 {
			stage = v[0]
		}
		byStage[stage] += time.Duration(s.Value[cpu])
	}
	return byStage
}

// resetPeakRSS resets the kernel's record of this process's peak resident
// set size (Linux: "5" to /proc/self/clear_refs); false where it cannot.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the peak resident set size since the last reset
// (VmHWM in /proc/self/status), in bytes; 0 where it cannot be read.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
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
// (user+sys), its peak RSS and peak heap during the runs (under the CLI's
// default soft memory limit), and the CPU milliseconds per message of each
// stage (from a CPU profile split by the Runner's stage label; "other" is
// the work outside any stage: manifest, ledger, HTTP connections, the
// garbage collector).
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
	// so that the peaks are the CLI's.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(100 << 20))
	var elapsed, cpu time.Duration
	var peakHeap, rss uint64
	rssKnown := true
	byStage := map[string]time.Duration{}
	profiled := true
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
		rssKnown = rssKnown && resetPeakRSS()
		h := watchHeap()
		b.StartTimer()
		var sum backfill.Summary
		start, cpu0 := time.Now(), cpuTime()
		stages := stageCPU(b, func() {
			sum, err = backfill.Run(context.Background(), backfill.Config{Manifest: f, BaseDir: corpus.Dir,
				Pipeline: p, Ledger: l, Concurrency: concurrency})
		})
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		peakHeap = max(peakHeap, h.done())
		rss = max(rss, peakRSS())
		f.Close()
		l.Close()
		if err != nil || sum.Sent != int64(corpus.Lines) {
			b.Fatalf("run: %v; summary %+v", err, sum.Counts)
		}
		profiled = profiled && stages != nil
		for k, v := range stages {
			byStage[k] += v
		}
		runs++
		b.StartTimer()
	}
	n := float64(corpus.Lines * runs)
	b.ReportMetric(n/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Milliseconds())/n, "cpu-ms/msg")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	if rssKnown && rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "peak-rss-MB")
	}
	if !profiled {
		return
	}
	for k, v := range byStage {
		if k == "" {
			k = "other"
		}
		b.ReportMetric(float64(v.Microseconds())/1000/n, k+"-cpu-ms/msg")
	}
}
