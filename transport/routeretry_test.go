package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// failThenOK is an httptest server that answers the first `fail` requests
// with status and every later one with 200 and a status endpoint, and
// counts the requests it was sent.
type failThenOK struct {
	*httptest.Server
	status int
	fail   int64
	hits   atomic.Int64
}

func newFailThenOK(t *testing.T, status int, fail int64) *failThenOK {
	t.Helper()
	s := &failThenOK{status: status, fail: fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hits.Add(1) <= s.fail {
			if s.status == 0 { // a network error: drop the connection
				hj, ok := w.(http.Hijacker)
				if !ok {
					t.Error("cannot hijack")
					return
				}
				conn, _, _ := hj.Hijack()
				conn.Close()
				return
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(s.status)
			fmt.Fprintf(w, `{"title":"injected","status":%d}`, s.status)
			return
		}
		fmt.Fprint(w, `{"messageStatusEndpoint":"/api/v1/messages/x/status"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// TestRetriesComeFromTheRouteTable drives every status through the client
// on every route: a status the route table retries is answered once with
// it and then with 200 (two requests, success); any other is one request
// and the error. The expected policy is written out here, so that a change
// to the table is a deliberate change to this test too.
func TestRetriesComeFromTheRouteTable(t *testing.T) {
	policy := map[conneqt.RouteName][]int{
		// pages: 500; departures documented in conneqt/route.go
		conneqt.Standard: {429, 500, 502, 503, 504},
		conneqt.Instant:  {429, 500, 502, 503, 504},
		// pages: 500, 503 (MESH unavailable)
		conneqt.GPConnect: {429, 500, 502, 503, 504},
	}
	statuses := []int{400, 401, 403, 404, 406, 409, 410, 413, 422, 429, 500, 501, 502, 503, 504, 505}
	for _, name := range conneqt.RouteNames() {
		route := conneqt.MustRoute(name)
		for _, status := range statuses {
			want := slices.Contains(policy[name], status)
			t.Run(fmt.Sprintf("%s/%d", name, status), func(t *testing.T) {
				if got := route.Retryable(status); got != want {
					t.Fatalf("route table: Retryable(%d) = %v, want %v", status, got, want)
				}
				srv := newFailThenOK(t, status, 1)
				_, err := sendOnce(t, srv, route)
				if got := srv.hits.Load(); want && got != 2 || !want && got != 1 {
					t.Errorf("%d requests, want retried=%v (%v)", got, want, err)
				}
				if want {
					if err != nil {
						t.Errorf("retried status %d: %v", status, err)
					}
					return
				}
				var ae *transport.APIError
				if !errors.As(err, &ae) || ae.Status != status || ae.Attempts != 1 {
					t.Fatalf("status %d not retried: got %v", status, err)
				}
				if conneqt.Retryable(err) {
					t.Errorf("status %d: the error says retryable, but the route does not retry it", status)
				}
			})
		}
		t.Run(fmt.Sprintf("%s/network error", name), func(t *testing.T) {
			srv := newFailThenOK(t, 0, 1)
			if _, err := sendOnce(t, srv, route); err != nil {
				t.Errorf("network error not retried: %v", err)
			}
			if got := srv.hits.Load(); got != 2 {
				t.Errorf("%d requests, want 2", got)
			}
		})
	}
}

// TestRetriesFollowAnEditedRoute: the client has no list of its own. A
// route cloned with fewer retry statuses retries fewer, and one that lists
// a status that must never be retried (406) still does not retry it.
func TestRetriesFollowAnEditedRoute(t *testing.T) {
	strict := conneqt.MustRoute(conneqt.Standard).Clone()
	strict.RetryStatus = []int{500}
	unsafe := conneqt.MustRoute(conneqt.Standard).Clone()
	unsafe.RetryStatus = append(unsafe.RetryStatus, 406, 400)
	for _, tt := range []struct {
		name   string
		route  *conneqt.Route
		status int
		hits   int64
	}{
		{"500 on strict", strict, 500, 2},
		{"503 on strict", strict, 503, 1},
		{"502 on strict", strict, 502, 1},
		{"406 listed", unsafe, 406, 1},
		{"400 listed", unsafe, 400, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFailThenOK(t, tt.status, 1)
			sendOnce(t, srv, tt.route)
			if got := srv.hits.Load(); got != tt.hits {
				t.Errorf("%d requests, want %d", got, tt.hits)
			}
		})
	}
}

// TestReadsRetryWhatARouteRetries: a status poll (a read of no route)
// retries what some route retries, and nothing else.
func TestReadsRetryWhatARouteRetries(t *testing.T) {
	for _, tt := range []struct {
		status int
		hits   int64
	}{{503, 2}, {500, 2}, {429, 2}, {404, 1}, {401, 1}} {
		srv := newFailThenOK(t, tt.status, 1)
		c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: "k", Clock: newFakeClock()})
		if err != nil {
			t.Fatal(err)
		}
		c.Status(context.Background(), "/api/v1/messages/x/status")
		if got := srv.hits.Load(); got != tt.hits {
			t.Errorf("GET answered %d: %d requests, want %d", tt.status, got, tt.hits)
		}
	}
}

// sendOnce sends a sample message of route's kind to srv with a client
// that may retry up to 3 times, waits passing at once.
func sendOnce(t *testing.T, srv *failThenOK, route *conneqt.Route) (*transport.SendResult, error) {
	t.Helper()
	c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: "k", AccessToken: "t",
		MaxAttempts: 3, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := conneqttest.SampleMessage(route.Name)
	return c.Send(context.Background(), route, m.MessageID, payload(m))
}
