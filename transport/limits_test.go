package transport_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

func TestMaxConcurrent(t *testing.T) {
	sim := conneqttest.New(conneqttest.Options{})
	var inFlight, peak atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		sim.ServeHTTP(w, r)
		inFlight.Add(-1)
	}))
	defer hs.Close()
	c, err := transport.New(transport.Options{BaseURL: hs.URL, APIKey: sim.APIKey(), MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			m := conneqttest.SampleMessage(conneqt.Standard)
			if _, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak of %d requests in flight with MaxConcurrent 2", p)
	}
	if st := sim.Stats(); st.Accepted != 12 {
		t.Errorf("accepted %d", st.Accepted)
	}
}

func TestRateLimit(t *testing.T) {
	_, c, _ := setup(t, conneqttest.Options{}, transport.Options{RateLimit: 20, RateBurst: 1})
	start := time.Now()
	for range 6 {
		m := conneqttest.SampleMessage(conneqt.Standard)
		if _, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m)); err != nil {
			t.Fatal(err)
		}
	}
	// 6 requests at 20/s with a burst of 1 cannot take less than 5 × 50 ms.
	if el := time.Since(start); el < 240*time.Millisecond {
		t.Errorf("6 requests at 20/s took %v", el)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	s, c, clock := setup(t, conneqttest.Options{}, transport.Options{PerAttemptTimeout: 100 * time.Millisecond})
	s.Script(conneqttest.Fault{Latency: time.Minute})
	m := conneqttest.SampleMessage(conneqt.GPConnect)
	res, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || len(clock.Sleeps()) != 1 {
		t.Errorf("attempts %d sleeps %v", res.Attempts, clock.Sleeps())
	}
	if st := s.Stats(); st.Accepted != 1 || st.Duplicates != 0 {
		t.Errorf("stats %+v", st)
	}

	// With one attempt allowed, the timeout is a retryable NetworkError.
	_, c1, _ := setup(t, conneqttest.Options{Faults: conneqttest.Faults{Latency: time.Minute}}, transport.Options{PerAttemptTimeout: 50 * time.Millisecond, MaxAttempts: 1})
	m = conneqttest.SampleMessage(conneqt.Standard)
	_, err = c1.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m))
	var ne *transport.NetworkError
	if !errors.As(err, &ne) || !conneqt.Retryable(err) || ne.Attempts != 1 {
		t.Errorf("err %v", err)
	}
}
