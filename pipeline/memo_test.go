package pipeline

import (
	"sync"
	"testing"
)

type memoTestKey struct{}

// TestRememberRecall: what is remembered is recalled for the same
// attachment and key only, nil forgets, and concurrent use is safe.
func TestRememberRecall(t *testing.T) {
	var d Document
	if got := d.Recall(0, memoTestKey{}); got != nil {
		t.Fatalf("Recall on an empty document = %v", got)
	}
	d.Remember(0, memoTestKey{}, "parsed 0")
	d.Remember(1, memoTestKey{}, "parsed 1")
	tests := []struct {
		name string
		i    int
		key  any
		want any
	}{
		{"same attachment and key", 0, memoTestKey{}, "parsed 0"},
		{"other attachment", 1, memoTestKey{}, "parsed 1"},
		{"attachment never remembered", 2, memoTestKey{}, nil},
		{"other key", 0, "memoTestKey", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.Recall(tt.i, tt.key); got != tt.want {
				t.Errorf("Recall(%d, %v) = %v, want %v", tt.i, tt.key, got, tt.want)
			}
		})
	}
	d.Remember(0, memoTestKey{}, nil)
	if got := d.Recall(0, memoTestKey{}); got != nil {
		t.Errorf("after forgetting, Recall = %v", got)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			d.Remember(i, memoTestKey{}, i)
			if got := d.Recall(i, memoTestKey{}); got != i {
				t.Errorf("Recall(%d) = %v", i, got)
			}
		})
	}
	wg.Wait()
}
