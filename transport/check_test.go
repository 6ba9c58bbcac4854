package transport_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

func TestCheck(t *testing.T) {
	sim := conneqttest.NewServer(conneqttest.Options{})
	defer sim.Close()
	// A port nothing listens on: take one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	instant, gpc := conneqt.MustRoute(conneqt.Instant), conneqt.MustRoute(conneqt.GPConnect)
	tests := []struct {
		name   string
		base   string
		key    string
		token  string
		req    transport.CheckRequest
		want   map[string]transport.Verdict
		detail map[string]string // substring of the detail
	}{
		{"all good", sim.URL, sim.APIKey(), sim.GrantAccessToken(),
			transport.CheckRequest{Routes: []*conneqt.Route{instant, gpc}, Topics: []string{"Health", "ConsultationSummary", ""}},
			map[string]transport.Verdict{"connectivity": transport.Pass, "api key": transport.Pass, "access token": transport.Note, "topics": transport.Pass},
			nil},
		{"wrong key", sim.URL, "not-the-key", "",
			transport.CheckRequest{Routes: []*conneqt.Route{gpc}},
			map[string]transport.Verdict{"connectivity": transport.Pass, "api key": transport.Fail, "access token": transport.Skip, "topics": transport.Skip},
			map[string]string{"api key": "401"}},
		{"no token for instant", sim.URL, sim.APIKey(), "",
			transport.CheckRequest{Routes: []*conneqt.Route{instant}},
			map[string]transport.Verdict{"access token": transport.Fail},
			map[string]string{"access token": "instant"}},
		{"unknown topic", sim.URL, sim.APIKey(), "",
			transport.CheckRequest{Topics: []string{"Health", "Gossip"}},
			map[string]transport.Verdict{"topics": transport.Fail},
			map[string]string{"topics": `"Gossip"`}},
		{"unreachable", dead, "key-that-is-never-shown", "",
			transport.CheckRequest{Topics: []string{"Health"}},
			map[string]transport.Verdict{"connectivity": transport.Fail, "api key": transport.Skip, "topics": transport.Skip},
			map[string]string{"connectivity": "cannot reach"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := transport.New(transport.Options{BaseURL: tt.base, APIKey: tt.key, AccessToken: tt.token})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			rep := c.Check(context.Background(), tt.req)
			got := map[string]transport.CheckResult{}
			for _, r := range rep.Results {
				got[r.Name] = r
			}
			if len(rep.Results) != 4 {
				t.Errorf("results = %+v, want 4 checks", rep.Results)
			}
			wantOK := true
			for name, v := range tt.want {
				if got[name].Verdict != v {
					t.Errorf("%s = %s (%s), want %s", name, got[name].Verdict, got[name].Detail, v)
				}
				if v == transport.Fail {
					wantOK = false
				}
			}
			for name, sub := range tt.detail {
				if !strings.Contains(got[name].Detail, sub) {
					t.Errorf("%s detail %q does not mention %q", name, got[name].Detail, sub)
				}
			}
			if rep.OK() != wantOK {
				t.Errorf("OK() = %v, want %v", rep.OK(), wantOK)
			}
			for _, r := range rep.Results {
				if tt.key != "" && strings.Contains(r.Detail, tt.key) {
					t.Errorf("%s detail shows the API key: %q", r.Name, r.Detail)
				}
			}
		})
	}
}
