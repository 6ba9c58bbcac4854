// Package memprobe measures peak heap use for gpdoc's memory tests and
// benchmarks, so that every "peak heap" figure is taken the same way.
package memprobe

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Peak runs fn and returns the largest growth of the in-use heap
// (runtime.MemStats.HeapInuse) over its value before fn, sampled every
// millisecond. It collects garbage first so that the baseline is live data
// only. Sampling can miss a peak shorter than a millisecond; the figure is a
// lower bound on the true peak, and close to it for work that holds memory
// for longer than that.
func Peak(fn func()) uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	sample := func(m *runtime.MemStats) {
		runtime.ReadMemStats(m)
		if m.HeapInuse > base && m.HeapInuse-base > peak.Load() {
			peak.Store(m.HeapInuse - base)
		}
	}
	go func() {
		defer close(stopped)
		var m runtime.MemStats
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			sample(&m)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	sample(&ms) // the heap as fn left it counts too
	return peak.Load()
}

// ResetPeakRSS resets the kernel's record of the process's peak resident
// set size (Linux: writes 5 to /proc/self/clear_refs), after collecting
// garbage and returning freed memory to the system, so that PeakRSS
// measures from now. It reports whether the reset was possible.
func ResetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// PeakRSS returns the process's peak resident set size in bytes since it
// started or since the last ResetPeakRSS (Linux: VmHWM in
// /proc/self/status), or 0 where that is not known. Unlike Peak it counts
// everything the process holds: the Go heap, stacks, the runtime's free
// pages not yet returned, and memory outside Go's heap.
func PeakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
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
