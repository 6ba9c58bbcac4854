// Package memprobe measures peak heap use for gpdoc's memory tests and
// benchmarks, so that every "peak heap" figure is taken the same way.
package memprobe

import (
	"runtime"
	"runtime/debug"
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
