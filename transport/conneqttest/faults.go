package conneqttest

import (
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Fault is one injected failure of a message request.
type Fault struct {
	// Status is the answer: 503 (MESH unavailable), 500 or any other
	// status (0 with Drop). Ignored when Drop is set.
	Status int
	// Drop closes the connection without answering.
	Drop bool
	// RetryAfter, if set, is sent as the Retry-After header (seconds or an
	// HTTP date).
	RetryAfter string
	// Latency delays the answer (real time; the request's context ends it).
	Latency time.Duration
	// AfterStore injects the fault after the message is stored: the service
	// took the message but the answer is lost. Otherwise the message is not
	// stored.
	AfterStore bool
}

func (f Fault) active() bool { return f.Drop || f.Status != 0 }

// Faults are rates of failure, decided per request deterministically from
// Seed (see the package doc). Rates are fractions in [0, 1]; at most one
// fault strikes a request, checked in the order drop, 503, 500.
type Faults struct {
	Seed uint64
	// UnavailableRate is the fraction of requests answered 503 (MESH
	// unavailable) on UnavailableRoutes.
	UnavailableRate float64
	// UnavailableRoutes are the routes 503s strike (nil: GP Connect only,
	// the one route whose page documents 503).
	UnavailableRoutes []conneqt.RouteName
	// ErrorRate is the fraction answered 500, on every route.
	ErrorRate float64
	// DropRate is the fraction whose connection is closed without an answer.
	DropRate float64
	// AfterStoreRate is the fraction of faults that strike after the
	// message is stored (lost responses).
	AfterStoreRate float64
	// RetryAfter, if set, is sent with injected 503s and 500s.
	RetryAfter string
	// Latency is added to every valid message request.
	Latency time.Duration
}

// SetFaults replaces the fault rates (in effect for the next request).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Script queues faults that strike the next valid message requests, one
// each, in order, before any rate applies. A zero Fault lets one request
// through untouched.
func (s *Server) Script(faults ...Fault) {
	s.mu.Lock()
	s.script = append(s.script, faults...)
	s.mu.Unlock()
}

// FailNext makes the next n valid message requests fail with status (and
// Retry-After retryAfter, if not empty), before storing.
func (s *Server) FailNext(n, status int, retryAfter string) {
	fs := make([]Fault, n)
	for i := range fs {
		fs[i] = Fault{Status: status, RetryAfter: retryAfter}
	}
	s.Script(fs...)
}

// decideFault picks the fault (if any) for a valid message request.
func (s *Server) decideFault(route *conneqt.Route, messageID string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := messageID
	if key == "" {
		s.anon++
		key = "#" + strconv.Itoa(s.anon)
	}
	n := s.seen[key]
	s.seen[key] = n + 1
	if len(s.script) > 0 {
		f := s.script[0]
		s.script = s.script[1:]
		return f
	}
	fs := s.faults
	f := Fault{Latency: fs.Latency}
	u := draw(fs.Seed, key, n, 0)
	routes := fs.UnavailableRoutes
	if routes == nil {
		routes = []conneqt.RouteName{conneqt.GPConnect}
	}
	switch {
	case u < fs.DropRate:
		f.Drop = true
	case u < fs.DropRate+fs.UnavailableRate && slices.Contains(routes, route.Name):
		f.Status, f.RetryAfter = http.StatusServiceUnavailable, fs.RetryAfter
	case u >= fs.DropRate+fs.UnavailableRate && u < fs.DropRate+fs.UnavailableRate+fs.ErrorRate:
		f.Status, f.RetryAfter = http.StatusInternalServerError, fs.RetryAfter
	}
	if f.active() && draw(fs.Seed, key, n, 1) < fs.AfterStoreRate {
		f.AfterStore = true
	}
	return f
}

// draw is a uniform number in [0, 1) fixed by (seed, key, n, salt).
func draw(seed uint64, key string, n int, salt byte) float64 {
	h := sha256.New()
	var b [17]byte
	binary.LittleEndian.PutUint64(b[0:], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	b[16] = salt
	h.Write(b[:])
	h.Write([]byte(key))
	sum := h.Sum(nil)
	return float64(binary.LittleEndian.Uint64(sum)>>11) / (1 << 53)
}
