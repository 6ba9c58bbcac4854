package transport_test

import (
	"context"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// BenchmarkSend measures sends of a small message to the simulator over
// loopback, from GOMAXPROCS goroutines sharing one client (simulator
// validation and storage included).
func BenchmarkSend(b *testing.B) {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	c, err := transport.New(transport.Options{BaseURL: sim.URL, APIKey: sim.APIKey()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	route := conneqt.MustRoute(conneqt.Standard)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m := conneqttest.SampleMessage(conneqt.Standard)
			if _, err := c.Send(context.Background(), route, m.MessageID, transport.BytesPayload(conneqttest.Marshal(m))); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDecodeAndCheck measures the simulator's strict decoding and
// envelope checks of a one-attachment message.
func BenchmarkDecodeAndCheck(b *testing.B) {
	body := conneqttest.Marshal(conneqttest.SampleMessage(conneqt.GPConnect))
	route := conneqt.MustRoute(conneqt.GPConnect)
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m, probs, err := conneqttest.DecodeMessage(body)
		if err != nil || len(probs) > 0 {
			b.Fatal(err, probs)
		}
		if ps := conneqttest.CheckMessage(route, m, now); len(ps) > 0 {
			b.Fatal(ps)
		}
	}
}
