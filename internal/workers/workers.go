// Package workers runs the CPU-bound parallel loops inside one job (the
// strips of a JPEG encode, the bands of a resize or of a JPEG decode) under
// one process-wide limit, so that several attachments fitted at once share
// the CPUs instead of each starting GOMAXPROCS goroutines of its own.
//
// Every goroutine [ForEach] starts takes a slot of the process-wide
// semaphore before it works on an item and holds it until the loop has no
// items left; the limit defaults to GOMAXPROCS at the first use and can be
// changed with [SetLimit]. A loop stops early when its context is
// cancelled or an item fails.
//
// fn must not call ForEach itself: an inner loop waiting for a slot that
// its own outer loop holds would never start.
package workers

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// pool is the process-wide limit.
type pool struct {
	sem   *semaphore.Weighted
	limit int
}

var current atomic.Pointer[pool]

func get() *pool {
	if p := current.Load(); p != nil {
		return p
	}
	n := runtime.GOMAXPROCS(0)
	current.CompareAndSwap(nil, &pool{sem: semaphore.NewWeighted(int64(n)), limit: n})
	return current.Load()
}

// Limit returns the number of goroutines that may run loop items at once,
// across the process.
func Limit() int { return get().limit }

// SetLimit sets the process-wide limit (n < 1 means GOMAXPROCS). Loops
// already running keep the limit they started with. It is meant for
// start-up and tests, before loops run.
func SetLimit(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	current.Store(&pool{sem: semaphore.NewWeighted(int64(n)), limit: n})
}

// N returns how many goroutines ForEach starts for n items: at most the
// limit. Callers size per-goroutine scratch space with it.
func N(n int) int { return max(0, min(n, Limit())) }

// ForEach calls fn(w, i) for every i in [0, n), on N(n) goroutines that
// each hold a slot of the process-wide limit while they work. w (below
// N(n)) names the goroutine, so that fn can keep scratch space per
// goroutine; items are handed out in order. The loop stops at the first
// error, which it returns (errors of items already running are joined to
// it), or when ctx is cancelled, when it returns ctx.Err(). A panic in fn
// stops the loop and is raised again in the caller's goroutine.
func ForEach(ctx context.Context, n int, fn func(w, i int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := get()
	workers := min(n, p.limit)
	if workers <= 0 {
		return nil
	}
	var next atomic.Int64
	var stop atomic.Bool
	errs := make([]error, workers)
	var (
		panicOnce sync.Once
		panicked  any
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// A panic in fn (a decoder meeting hostile bytes) must not end
			// the process from a goroutine no one recovers: it is raised
			// again in the caller's goroutine, where the stage boundary
			// recovers it.
			defer func() {
				if v := recover(); v != nil {
					panicOnce.Do(func() { panicked = v })
					stop.Store(true)
				}
			}()
			if err := p.sem.Acquire(ctx, 1); err != nil {
				errs[w] = err
				stop.Store(true)
				return
			}
			defer p.sem.Release(1)
			for !stop.Load() {
				if err := ctx.Err(); err != nil {
					errs[w] = err
					stop.Store(true)
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(w, i); err != nil {
					errs[w] = err
					stop.Store(true)
					return
				}
			}
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}
