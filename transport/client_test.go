package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// fakeClock records the waits the client asks for and passes them at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// onSleep, if set, runs inside Sleep (before the wait "passes").
	onSleep func()
	// block makes Sleep wait for ctx instead of returning.
	block bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	fn, block := c.onSleep, c.block
	c.mu.Unlock()
	if fn != nil {
		fn()
	}
	if block {
		<-ctx.Done()
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// setup returns a simulator and a client for it with a fake clock.
func setup(t *testing.T, so conneqttest.Options, co transport.Options) (*conneqttest.Server, *transport.Client, *fakeClock) {
	t.Helper()
	s := conneqttest.NewServer(so)
	t.Cleanup(s.Close)
	clock := newFakeClock()
	co.BaseURL = s.URL
	if co.APIKey == "" {
		co.APIKey = s.APIKey()
	}
	if co.Clock == nil {
		co.Clock = clock
	}
	c, err := transport.New(co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return s, c, clock
}

func payload(m *conneqt.Message) transport.BytesPayload {
	return transport.BytesPayload(conneqttest.Marshal(m))
}

func TestSendAcceptedOnEveryRoute(t *testing.T) {
	for _, name := range conneqt.RouteNames() {
		t.Run(string(name), func(t *testing.T) {
			s := conneqttest.NewServer(conneqttest.Options{})
			defer s.Close()
			c, err := transport.New(transport.Options{BaseURL: s.URL, APIKey: s.APIKey(), AccessToken: s.GrantAccessToken()})
			if err != nil {
				t.Fatal(err)
			}
			m := conneqttest.SampleMessage(name)
			res, err := c.Send(context.Background(), conneqt.MustRoute(name), m.MessageID, payload(m))
			if err != nil {
				t.Fatal(err)
			}
			acc, ok := s.Message(m.MessageID)
			if !ok {
				t.Fatal("the simulator did not store the message")
			}
			if res.StatusEndpoint != s.URL+acc.Endpoint || res.Attempts != 1 {
				t.Errorf("result %+v, want endpoint %s", res, s.URL+acc.Endpoint)
			}
			st, err := c.Status(context.Background(), res.StatusEndpoint)
			if err != nil || st.Status != conneqttest.StatePending || st.MessageID != m.MessageID || st.Terminal() {
				t.Errorf("status %+v, %v", st, err)
			}
		})
	}
}

func TestRetriedStatusesKeepMessageID(t *testing.T) {
	tests := []struct {
		name           string
		faults         []conneqttest.Fault
		wantAttempts   int
		wantDuplicates int64
	}{
		{"503 then 200", []conneqttest.Fault{{Status: 503}}, 2, 0},
		{"503 twice then 200", []conneqttest.Fault{{Status: 503}, {Status: 503}}, 3, 0},
		{"500, 502, 504, 429", []conneqttest.Fault{{Status: 500}, {Status: 502}, {Status: 504}, {Status: 429}}, 5, 0},
		{"dropped connection", []conneqttest.Fault{{Drop: true}}, 2, 0},
		{"lost 503 response", []conneqttest.Fault{{Status: 503, AfterStore: true}}, 2, 1},
		{"lost response: dropped after store", []conneqttest.Fault{{Drop: true, AfterStore: true}}, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, clock := setup(t, conneqttest.Options{}, transport.Options{})
			s.Script(tt.faults...)
			m := conneqttest.SampleMessage(conneqt.GPConnect)
			res, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
			if err != nil {
				t.Fatal(err)
			}
			if res.Attempts != tt.wantAttempts || len(clock.Sleeps()) != tt.wantAttempts-1 {
				t.Errorf("attempts %d, sleeps %v; want %d attempts", res.Attempts, clock.Sleeps(), tt.wantAttempts)
			}
			st := s.Stats()
			if st.Accepted != 1 || st.Duplicates != tt.wantDuplicates || st.Messages != int64(tt.wantAttempts) {
				t.Errorf("stats %+v", st)
			}
			acc := s.Accepted()
			if len(acc) != 1 || acc[0].Message.MessageID != m.MessageID {
				t.Errorf("stored %d messages", len(acc))
			}
		})
	}
}

func TestNeverRetried(t *testing.T) {
	eicar := conneqttest.SampleMessage(conneqt.Standard)
	eicar.Attachments = append(eicar.Attachments, &conneqt.Attachment{FileName: "eicar.txt", MIMEType: conneqt.MIMEText, Data: []byte(conneqttest.EICAR)})
	invalid := conneqttest.SampleMessage(conneqt.Standard)
	invalid.Topic = "Nope"
	tests := []struct {
		name    string
		route   conneqt.RouteName
		msg     *conneqt.Message
		key     string
		token   string
		script  []conneqttest.Fault
		status  int
		is      error
		outcome conneqt.Outcome
	}{
		{"406 virus", conneqt.Standard, eicar, "", "", nil, 406, conneqt.ErrRejectedContent, conneqt.RejectedContent},
		{"400 invalid", conneqt.Standard, invalid, "", "", nil, 400, conneqt.ErrInvalid, conneqt.Invalid},
		{"401 bad key", conneqt.Standard, conneqttest.SampleMessage(conneqt.Standard), "wrong", "", nil, 401, conneqt.ErrUnauthorized, conneqt.FailedPermanent},
		{"403 no grant", conneqt.Instant, conneqttest.SampleMessage(conneqt.Instant), "", "ungranted", nil, 403, conneqt.ErrUnauthorized, conneqt.FailedPermanent},
		{"501 not retried", conneqt.Standard, conneqttest.SampleMessage(conneqt.Standard), "", "", []conneqttest.Fault{{Status: 501}}, 501, conneqt.ErrUnavailable, conneqt.FailedPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c, clock := setup(t, conneqttest.Options{}, transport.Options{APIKey: tt.key, AccessToken: tt.token})
			s.Script(tt.script...)
			_, err := c.Send(context.Background(), conneqt.MustRoute(tt.route), tt.msg.MessageID, payload(tt.msg))
			var ae *transport.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status || ae.Attempts != 1 {
				t.Fatalf("err %v, want a %d after 1 attempt", err, tt.status)
			}
			if ae.Problem == nil || ae.Problem.Status != tt.status {
				t.Errorf("problem not parsed: %+v", ae.Problem)
			}
			if !errors.Is(err, tt.is) || conneqt.Classify(err) != tt.outcome {
				t.Errorf("errors.Is(%v) false or outcome %v, want %v", tt.is, conneqt.Classify(err), tt.outcome)
			}
			if conneqt.Retryable(err) || !conneqt.Permanent(err) {
				t.Errorf("Retryable/Permanent wrong for %v", err)
			}
			if st := s.Stats(); st.Messages != 1 || st.Accepted != 0 || len(clock.Sleeps()) != 0 {
				t.Errorf("requests %d accepted %d sleeps %v", st.Messages, st.Accepted, clock.Sleeps())
			}
		})
	}
}

func TestInvalidParametersSurfaceEveryEntry(t *testing.T) {
	_, c, _ := setup(t, conneqttest.Options{}, transport.Options{})
	m := conneqttest.SampleMessage(conneqt.Standard)
	m.Subject.ID.Type = conneqt.IDNHSNumber
	m.Body.MIMEType = "text/html"
	m.Attachments = append(m.Attachments, &conneqt.Attachment{FileName: "bad|name.pdf", MIMEType: "application/zip", Data: []byte("PK")})
	m.CodedDataItems[0].Code = "123"
	_, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m))
	// application/zip is both not allowed and not what the bytes are: two problems.
	want := []string{"attachments[1].fileName", "attachments[1].mimeType", "attachments[1].mimeType", "body.mimeType", "codedDataItems[0].code", "subject.id.type"}
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v is not a *conneqt.ValidationError", err)
	}
	var got []string
	for _, p := range ve.Problems {
		got = append(got, p.Name)
		if p.Reason == "" {
			t.Errorf("%s has no reason", p.Name)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("invalidParameters %v, want %v", got, want)
	}
	var ae *transport.APIError
	if !errors.As(err, &ae) || !errors.Is(err, conneqt.ErrInvalid) || !errors.Is(err, conneqt.ErrInvalid) {
		t.Errorf("err %v: want an *APIError matching ErrInvalid", err)
	}
	for _, name := range want {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("message %q lacks %s", err, name)
		}
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	clock := newFakeClock()
	date := clock.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{"seconds", "7", 7 * time.Second},
		{"HTTP date", date, 90 * time.Second},
		{"zero", "0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			s, c, _ := setup(t, conneqttest.Options{}, transport.Options{Clock: clock, MaxElapsed: time.Hour})
			s.FailNext(1, 503, tt.retryAfter)
			m := conneqttest.SampleMessage(conneqt.GPConnect)
			res, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
			if err != nil || res.Attempts != 2 {
				t.Fatalf("res %+v err %v", res, err)
			}
			if got := clock.Sleeps(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("waits %v, want [%v]", got, tt.want)
			}
		})
	}
	t.Run("beyond the time limit", func(t *testing.T) {
		s, c, clock := setup(t, conneqttest.Options{}, transport.Options{MaxElapsed: time.Minute})
		s.FailNext(1, 503, "3600")
		m := conneqttest.SampleMessage(conneqt.GPConnect)
		_, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
		var ae *transport.APIError
		if !errors.As(err, &ae) || ae.RetryAfter != time.Hour || ae.Attempts != 1 || len(clock.Sleeps()) != 0 {
			t.Fatalf("err %v, sleeps %v", err, clock.Sleeps())
		}
		if !conneqt.Retryable(err) {
			t.Error("an exhausted 503 should be retryable later")
		}
	})
}

func TestBackoffBoundsAndLimits(t *testing.T) {
	s, c, clock := setup(t, conneqttest.Options{}, transport.Options{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: 3 * time.Second, MaxElapsed: time.Hour})
	s.FailNext(10, 503, "")
	m := conneqttest.SampleMessage(conneqt.GPConnect)
	_, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
	var ae *transport.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Attempts != 5 || !errors.Is(err, conneqt.ErrUnavailable) {
		t.Fatalf("err %v", err)
	}
	caps := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	sleeps := clock.Sleeps()
	if len(sleeps) != len(caps) {
		t.Fatalf("sleeps %v", sleeps)
	}
	for i, d := range sleeps {
		if d < 0 || d > caps[i] {
			t.Errorf("wait %d = %v, outside [0, %v]", i, d, caps[i])
		}
	}
	if st := s.Stats(); st.Messages != 5 || st.Accepted != 0 {
		t.Errorf("stats %+v", st)
	}

	// The total-time limit stops retries too.
	s2, c2, clock2 := setup(t, conneqttest.Options{}, transport.Options{MaxAttempts: 100, InitialBackoff: time.Minute, MaxBackoff: time.Minute, MaxElapsed: 3 * time.Minute})
	s2.FailNext(100, 503, "60")
	_, err = c2.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
	if !errors.As(err, &ae) || ae.Attempts != 4 || len(clock2.Sleeps()) != 3 {
		t.Errorf("err %v sleeps %v: want 4 attempts within 3 minutes", err, clock2.Sleeps())
	}
}

func TestCancellation(t *testing.T) {
	t.Run("during the wait between attempts", func(t *testing.T) {
		clock := newFakeClock()
		clock.block = true
		s, c, _ := setup(t, conneqttest.Options{}, transport.Options{Clock: clock, MaxElapsed: time.Hour})
		s.FailNext(5, 503, "600")
		ctx, cancel := context.WithCancel(context.Background())
		clock.onSleep = cancel
		m := conneqttest.SampleMessage(conneqt.GPConnect)
		_, err := c.Send(ctx, conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
		if !errors.Is(err, context.Canceled) || conneqt.Classify(err) != conneqt.FailedRetryable {
			t.Fatalf("err %v", err)
		}
		if st := s.Stats(); st.Messages != 1 {
			t.Errorf("made %d requests after cancellation", st.Messages)
		}
	})
	t.Run("during a slow attempt, real clock", func(t *testing.T) {
		s := conneqttest.NewServer(conneqttest.Options{})
		defer s.Close()
		s.Script(conneqttest.Fault{Latency: time.Minute})
		c, err := transport.New(transport.Options{BaseURL: s.URL, APIKey: s.APIKey()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		m := conneqttest.SampleMessage(conneqt.GPConnect)
		_, err = c.Send(ctx, conneqt.MustRoute(conneqt.GPConnect), m.MessageID, payload(m))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
		// The attempt would take a minute; returning within 20 s proves the
		// context stopped it (a generous bound for a loaded machine).
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("returned after %v", el)
		}
	})
}

func TestRefusals(t *testing.T) {
	for _, tt := range []struct {
		base string
		ok   bool
	}{
		{"https://int.conneqt.health", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://int.conneqt.health", false},
		{"http://10.0.0.1", false},
		{"ftp://int.conneqt.health", false},
		{"/relative", false},
	} {
		_, err := transport.New(transport.Options{BaseURL: tt.base, APIKey: "k"})
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.base, err)
		}
		if !tt.ok && tt.base != "/relative" && !errors.Is(err, transport.ErrInsecure) {
			t.Errorf("%s: err %v is not ErrInsecure", tt.base, err)
		}
	}
	if _, err := transport.New(transport.Options{BaseURL: "https://x"}); err == nil {
		t.Error("no API key accepted")
	}

	s, c, _ := setup(t, conneqttest.Options{}, transport.Options{})
	m := conneqttest.SampleMessage(conneqt.Instant)
	if _, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.Instant), m.MessageID, payload(m)); !errors.Is(err, transport.ErrAccessTokenRequired) {
		t.Errorf("instant without token: %v", err)
	}
	if _, err := c.Status(context.Background(), "https://elsewhere.example/api/v1/messages/x/status"); !errors.Is(err, transport.ErrInsecure) {
		t.Errorf("status on another host: %v", err)
	}
	if _, err := c.Status(context.Background(), m.MessageID); err == nil {
		t.Error("a bare messageId was accepted as a status endpoint")
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("refused calls made %d requests", st.Requests)
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	var calls int
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		switch r.URL.Path {
		case "/api/v1/messages":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body>upstream "+strings.Repeat("x", 2000)+"</body></html>")
		case "/redirect/api/v1/messages":
			http.Redirect(w, r, "https://evil.example/steal", http.StatusTemporaryRedirect)
		case "/api/v1/topics":
			fmt.Fprint(w, `{"topics":[{"name":"Health"},{"topic":"Other"}]}`)
		}
	}))
	defer hs.Close()
	c, err := transport.New(transport.Options{BaseURL: hs.URL, APIKey: "k", MaxAttempts: 3, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	m := conneqttest.SampleMessage(conneqt.Standard)
	_, err = c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m))
	var ae *transport.APIError
	if !errors.As(err, &ae) || ae.Status != 502 || ae.Problem != nil || !strings.HasPrefix(ae.BodyPrefix, "<html><body>upstream") || len(ae.BodyPrefix) > 512 || ae.Attempts != 3 {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), "POST /api/v1/messages") || !strings.Contains(err.Error(), "502") || !strings.Contains(err.Error(), "upstream") {
		t.Errorf("message %q", err)
	}

	rc, _ := transport.New(transport.Options{BaseURL: hs.URL + "/redirect", APIKey: "k", Clock: newFakeClock()})
	_, err = rc.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m))
	if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect || ae.Attempts != 1 {
		t.Errorf("redirect: %v", err)
	}

	topics, err := c.Topics(context.Background())
	if err != nil || !slices.Equal(topics, []string{"Health", "Other"}) {
		t.Errorf("topics %v %v", topics, err)
	}
}

func TestTopicsPingAndToken(t *testing.T) {
	s, c, _ := setup(t, conneqttest.Options{Topics: []string{"Health", "Admin"}}, transport.Options{})
	topics, err := c.Topics(context.Background())
	if err != nil || !slices.Equal(topics, []string{"Health", "Admin"}) {
		t.Errorf("topics %v %v", topics, err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("ping: %v", err)
	}
	bad, _ := transport.New(transport.Options{BaseURL: s.URL, APIKey: "wrong"})
	if err := bad.Ping(context.Background()); !errors.Is(err, conneqt.ErrUnauthorized) {
		t.Errorf("ping with a wrong key: %v", err)
	}
	s.AddAccessCode("JH23MA1Z")
	tok, err := c.ExchangeAccessCode(context.Background(), "JH23MA1Z")
	if err != nil || tok == "" {
		t.Fatalf("token %q %v", tok, err)
	}
	ic, _ := transport.New(transport.Options{BaseURL: s.URL, APIKey: s.APIKey(), AccessToken: tok})
	m := conneqttest.SampleMessage(conneqt.Instant)
	if _, err := ic.Send(context.Background(), conneqt.MustRoute(conneqt.Instant), m.MessageID, payload(m)); err != nil {
		t.Errorf("instant with exchanged token: %v", err)
	}
	if _, err := c.ExchangeAccessCode(context.Background(), "JH23MA1Z"); err == nil {
		t.Error("a used access code worked twice")
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := conneqttest.NewServer(conneqttest.Options{})
	defer s.Close()
	token := s.GrantAccessToken()
	c, err := transport.New(transport.Options{BaseURL: s.URL, APIKey: s.APIKey(), AccessToken: token, Logger: logger, Clock: newFakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	s.Script(conneqttest.Fault{Status: 503}, conneqttest.Fault{Drop: true})
	for _, r := range []conneqt.RouteName{conneqt.Instant, conneqt.GPConnect} {
		m := conneqttest.SampleMessage(r)
		if _, err := c.Send(context.Background(), conneqt.MustRoute(r), m.MessageID, payload(m)); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if !strings.Contains(out, "attempt") || !strings.Contains(out, "retrying") {
		t.Fatalf("nothing logged: %q", out)
	}
	if strings.Contains(out, s.APIKey()) || strings.Contains(out, token) {
		t.Errorf("a secret was logged:\n%s", out)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if p := fmt.Sprintf(verb, c); strings.Contains(p, s.APIKey()) || strings.Contains(p, token) {
			t.Errorf("%s of the client shows a secret: %s", verb, p)
		}
	}
}

func TestPayloadReadFreshEachAttempt(t *testing.T) {
	s, c, _ := setup(t, conneqttest.Options{}, transport.Options{})
	s.Script(conneqttest.Fault{Status: 503}, conneqttest.Fault{Status: 500})
	m := conneqttest.SampleMessage(conneqt.GPConnect)
	p := &countingPayload{b: conneqttest.Marshal(m)}
	if _, err := c.Send(context.Background(), conneqt.MustRoute(conneqt.GPConnect), m.MessageID, p); err != nil {
		t.Fatal(err)
	}
	if p.readers != 3 {
		t.Errorf("%d readers for 3 attempts", p.readers)
	}
	if st := s.Stats(); st.BytesReceived != 3*int64(len(p.b)) {
		t.Errorf("received %d bytes, want 3×%d", st.BytesReceived, len(p.b))
	}
}

type countingPayload struct {
	mu      sync.Mutex
	b       []byte
	readers int
}

func (p *countingPayload) Size() int64 { return int64(len(p.b)) }
func (p *countingPayload) NewReader() io.Reader {
	p.mu.Lock()
	p.readers++
	p.mu.Unlock()
	return struct{ io.Reader }{bytes.NewReader(p.b)} // hide the type: no sniffed length
}

// What a service says about a patient must not carry a full NHS number into
// gpdoc's logs, reports or ledger, nor the client's own key or token when a
// server echoes them.
func TestServiceProblemsAreRedacted(t *testing.T) {
	const key, token = "test-api-key-4f1c9e2b", "test-access-token-77d0"
	for _, tc := range []struct {
		name, contentType, body string
	}{
		{"body echoing the key and token", "text/html", "<html>bad request: ApiKey " + key + " AccessToken " + token +
			" for 943 476 5919</html>"},
		{"problem echoing the key", conneqt.ProblemContentType, `{"title":"Unauthorised","status":400,"detail":"key ` + key +
			` not valid for 9434765919","invalidParameters":[{"name":"ApiKey","reason":"unknown","value":"` + key + `"}]}`},
		{"problem", conneqt.ProblemContentType, `{"title":"Request Validation Error","status":400,"detail":"Unknown patient 943 476 5919",` +
			`"invalidParameters":[{"name":"subject.id.value","reason":"no such patient as 9434765919","value":"9434765919"}]}`},
		{"plain text", "text/plain", "patient 943-476-5919 is not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			var logged bytes.Buffer
			c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: key, AccessToken: token,
				Logger: slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			m := conneqttest.SampleMessage(conneqt.Standard)
			_, err = c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), m.MessageID, payload(m))
			var ae *transport.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %v", err)
			}
			all := err.Error() + ae.BodyPrefix + logged.String()
			if ae.Problem != nil {
				all += fmt.Sprintf("%+v", *ae.Problem)
			}
			// The number's hidden middle, in any of its written forms (not
			// "476" alone: the random messageId or a logged duration may
			// hold those three digits).
			for _, full := range []string{"9434765919", "943 476 5919", "943-476-5919", "943476", "4765919", "943 476", "476 5919",
				"943-476", "476-5919", key, token} {
				if strings.Contains(all, full) {
					t.Errorf("%q appears in what gpdoc keeps: %s", full, all)
				}
			}
			if !strings.Contains(all, "943***5919") {
				t.Errorf("the masked number is missing: %s", all)
			}
		})
	}
}

// TestSendUnconfirmed: an answer whose meaning gpdoc cannot establish after
// the bytes left is an *UnconfirmedError (conneqt.ErrUnconfirmed), which
// Classify makes failed-retryable, never failed-permanent; it is not
// retried within the call.
func TestSendUnconfirmed(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"200 not JSON", http.StatusOK, "<html>thanks</html>"},
		{"200 no endpoint", http.StatusOK, `{}`},
		{"201 empty", http.StatusCreated, ``},
		{"200 endpoint on another host", http.StatusOK, `{"messageStatusEndpoint":"https://elsewhere.example/api/v1/messages/m/status"}`},
		{"302 redirect", http.StatusFound, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				if tt.status >= 300 {
					w.Header().Set("Location", "/other")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: "k", Clock: newFakeClock()})
			if err != nil {
				t.Fatal(err)
			}
			msg := conneqttest.SampleMessage(conneqt.Standard)
			_, err = c.Send(context.Background(), conneqt.MustRoute(conneqt.Standard), msg.MessageID, payload(msg))
			var ue *transport.UnconfirmedError
			if !errors.As(err, &ue) || !errors.Is(err, conneqt.ErrUnconfirmed) || ue.Status != tt.status {
				t.Fatalf("err %v, want an *UnconfirmedError for %d", err, tt.status)
			}
			if got := conneqt.Classify(err); got != conneqt.FailedRetryable {
				t.Errorf("Classify = %v, want failed-retryable", got)
			}
			if !strings.Contains(err.Error(), "may have been delivered") || !strings.Contains(err.Error(), msg.MessageID) {
				t.Errorf("error %q", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Errorf("%d requests, want 1", calls)
			}
		})
	}
}
