package transport_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// TestOnAttempt: the hook is called once per attempt of Send, with the
// route, the status and whether the attempt is retried.
func TestOnAttempt(t *testing.T) {
	type call struct {
		route   string
		status  int
		retried bool
	}
	tests := []struct {
		name  string
		fail  int // 503s before the answer
		max   int
		calls []call
	}{
		{"accepted at once", 0, 3, []call{{"gpconnect", 200, false}}},
		{"two 503s, then accepted", 2, 3, []call{{"gpconnect", 503, true}, {"gpconnect", 503, true}, {"gpconnect", 200, false}}},
		{"503s until the attempts run out", 5, 2, []call{{"gpconnect", 503, true}, {"gpconnect", 503, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []call
			hook := func(route string, status int, d time.Duration, retried bool) {
				mu.Lock()
				defer mu.Unlock()
				if d < 0 {
					t.Errorf("negative attempt time %v", d)
				}
				got = append(got, call{route, status, retried})
			}
			s, c, _ := setup(t, conneqttest.Options{}, transport.Options{MaxAttempts: tt.max, MaxElapsed: time.Hour, OnAttempt: hook})
			s.FailNext(tt.fail, 503, "")
			m := conneqttest.SampleMessage(conneqt.GPConnect)
			c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
			mu.Lock()
			defer mu.Unlock()
			if len(got) != len(tt.calls) {
				t.Fatalf("calls %v, want %v", got, tt.calls)
			}
			for i := range got {
				if got[i] != tt.calls[i] {
					t.Errorf("call %d = %v, want %v", i, got[i], tt.calls[i])
				}
			}
		})
	}
}
