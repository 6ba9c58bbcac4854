package workers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		n       int
		failAt  int // item that fails; -1 for none
		wantErr error
		wantAll bool // every item ran exactly once
	}{
		{"none", context.Background(), 0, -1, nil, true},
		{"one", context.Background(), 1, -1, nil, true},
		{"many", context.Background(), 1000, -1, nil, true},
		{"error", context.Background(), 1000, 10, errBoom, false},
		{"cancelled", cancelled, 1000, -1, context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counts := make([]atomic.Int32, tt.n)
			err := ForEach(tt.ctx, tt.n, func(w, i int) error {
				if w < 0 || w >= N(tt.n) {
					t.Errorf("worker %d out of [0, %d)", w, N(tt.n))
				}
				counts[i].Add(1)
				if i == tt.failAt {
					return errBoom
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			ran := 0
			for i := range counts {
				c := counts[i].Load()
				if c > 1 {
					t.Errorf("item %d ran %d times", i, c)
				}
				ran += int(c)
			}
			if tt.wantAll && ran != tt.n {
				t.Errorf("%d of %d items ran", ran, tt.n)
			}
			if !tt.wantAll && ran == tt.n && tt.n > 100 {
				t.Errorf("all %d items ran; the loop should stop early", ran)
			}
		})
	}
}

// TestForEachStopsOnCancel: cancelling the context part-way stops the
// loop and returns ctx.Err().
func TestForEachStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran atomic.Int32
	err := ForEach(ctx, 10000, func(_, i int) error {
		ran.Add(1)
		if i == 5 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := ran.Load(); n >= 10000 {
		t.Errorf("%d items ran after the cancel", n)
	}
}

// TestLimitIsProcessWide: loops running at once never have more items in
// flight, together, than the limit.
func TestLimitIsProcessWide(t *testing.T) {
	defer SetLimit(0)
	SetLimit(2)
	if N(10) != 2 || N(1) != 1 || Limit() != 2 {
		t.Fatalf("N(10) = %d, N(1) = %d, Limit() = %d with the limit at 2", N(10), N(1), Limit())
	}
	var inFlight, most atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			err := ForEach(context.Background(), 200, func(_, _ int) error {
				n := inFlight.Add(1)
				for {
					m := most.Load()
					if n <= m || most.CompareAndSwap(m, n) {
						break
					}
				}
				for range 1000 { // some work, so that loops overlap
					_ = n * n
				}
				inFlight.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > 2 {
		t.Errorf("%d items in flight at once, limit 2", m)
	}
}

func BenchmarkForEach(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if err := ForEach(ctx, 64, func(_, _ int) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// TestForEachPanic: a panic in fn does not end the process from a worker
// goroutine: it is raised again in the caller's, with its value.
func TestForEachPanic(t *testing.T) {
	defer func() {
		if v := recover(); v != "hostile bytes" {
			t.Fatalf("recovered %v, want the worker's panic", v)
		}
	}()
	_ = ForEach(context.Background(), 64, func(_, i int) error {
		if i == 7 {
			panic("hostile bytes")
		}
		return nil
	})
	t.Fatal("ForEach returned after a worker panicked")
}
