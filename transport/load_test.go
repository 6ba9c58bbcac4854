package transport_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// TestLoad sends 2,000 small messages, 32 at a time, over loopback to a
// simulator that answers 10% of them 503 and drops 5% of connections (half
// of those faults after storing the message: lost responses). Every message
// must end accepted exactly once. It is bounded: 60 s, then it fails.
func TestLoad(t *testing.T) {
	const n, concurrency = 2000, 32
	sim := conneqttest.New(conneqttest.Options{Faults: conneqttest.Faults{
		Seed:              7,
		UnavailableRate:   0.10,
		UnavailableRoutes: conneqt.RouteNames(),
		DropRate:          0.05,
		AfterStoreRate:    0.5,
	}})
	hs := httptest.NewUnstartedServer(sim)
	var conns atomic.Int64
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	hs.Start()
	defer hs.Close()

	c, err := transport.New(transport.Options{
		BaseURL: hs.URL, APIKey: sim.APIKey(), AccessToken: sim.GrantAccessToken(),
		MaxConcurrent: concurrency, MaxAttempts: 25,
		InitialBackoff: 2 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxElapsed: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	routes := conneqt.RouteNames()
	ids := make([]string, n)
	payloads := make([]transport.BytesPayload, n)
	for i := range n {
		m := conneqttest.SampleMessage(routes[i%len(routes)])
		ids[i], payloads[i] = m.MessageID, payload(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(concurrency)
	var attempts atomic.Int64
	var mu sync.Mutex
	endpoints := map[string]string{}
	start := time.Now()
	for i := range n {
		g.Go(func() error {
			res, err := c.Send(ctx, conneqt.MustRoute(routes[i%len(routes)]), ids[i], payloads[i])
			if err != nil {
				return err
			}
			attempts.Add(int64(res.Attempts))
			mu.Lock()
			endpoints[ids[i]] = res.StatusEndpoint
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	st := sim.Stats()
	if st.Accepted != n || len(endpoints) != n {
		t.Errorf("accepted %d, endpoints %d; want %d", st.Accepted, len(endpoints), n)
	}
	seen := map[string]int{}
	for _, a := range sim.Accepted() {
		seen[a.Message.MessageID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("message %s stored %d times", id, seen[id])
		}
	}
	if st.Dropped == 0 || st.ByStatus["503"] == 0 || st.LostResponses == 0 || st.Duplicates != st.LostResponses {
		t.Errorf("faults not exercised as expected: %+v", st)
	}
	if got := attempts.Load(); got != st.Messages {
		t.Errorf("client counted %d attempts, simulator %d requests", got, st.Messages)
	}
	// Connections are reused: one per concurrent sender, plus one for each
	// connection the simulator dropped (and some slack for races between a
	// response and a connection going idle).
	if max := int64(concurrency) + st.Dropped + 32; conns.Load() > max {
		t.Errorf("opened %d connections; want at most %d", conns.Load(), max)
	}
	t.Logf("%d messages in %v: %.0f messages/s; %d requests (%d faults: %d 503, %d dropped, %d lost responses), %d duplicates, %d connections",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), st.Messages, st.Faults, st.ByStatus["503"],
		st.Dropped, st.LostResponses, st.Duplicates, conns.Load())
}
