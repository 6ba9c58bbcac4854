package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Defaults for a zero Options field.
const (
	DefaultMaxAttempts       = 6
	DefaultMaxElapsed        = 2 * time.Minute
	DefaultPerAttemptTimeout = 60 * time.Second
	DefaultInitialBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff        = 30 * time.Second
	DefaultMaxConnsPerHost   = 32
	DefaultTopicsPath        = "/api/v1/topics" // decision: the pages do not give it (docs/spec.md#status-and-topics)
	DefaultPingPath          = "/api/v1/test"
	DefaultAccessTokenPath   = "/api/v1/messages/instant/access/token"
)

// maxSuccessBody bounds how much of a success answer is read.
const maxSuccessBody = 1 << 20

// Options configures a Client. Only BaseURL and APIKey are required.
type Options struct {
	// BaseURL is the service root, e.g. https://int.conneqt.health. It must
	// be https, or http to a loopback host (the simulator).
	BaseURL string
	// APIKey is sent as the ApiKey header. Never logged; New registers it
	// with internal/redact, so that it is removed from everything gpdoc
	// writes out (a server error body that echoes it included).
	APIKey string
	// AccessToken is sent as the AccessToken header on routes whose policy
	// asks for it (instant: required; GP Connect: when configured). Never
	// logged.
	AccessToken string

	// HTTPClient, if set, is used instead of the client's own (its
	// CheckRedirect is replaced: redirects are never followed). Leave it nil
	// to get one http.Client with a transport tuned for many sends to one
	// host.
	HTTPClient *http.Client
	// MaxConnsPerHost bounds the connections of the client's own transport
	// (also its idle pool). <= 0: max(MaxConcurrent, DefaultMaxConnsPerHost).
	MaxConnsPerHost int

	// MaxAttempts bounds the requests per call, the first included
	// (<= 0: DefaultMaxAttempts; 1: no retries).
	MaxAttempts int
	// MaxElapsed bounds the time of one call, waits included: no attempt is
	// started that the wait before it would push past it (<= 0: DefaultMaxElapsed).
	MaxElapsed time.Duration
	// PerAttemptTimeout bounds one request, body upload and answer included
	// (<= 0: DefaultPerAttemptTimeout).
	PerAttemptTimeout time.Duration
	// InitialBackoff and MaxBackoff shape the exponential backoff (factor
	// 2, full jitter): the wait before retry n is uniform in
	// [0, min(MaxBackoff, InitialBackoff·2ⁿ⁻¹)], or exactly what Retry-After asks.
	InitialBackoff, MaxBackoff time.Duration
	// RateLimit, if > 0, bounds requests per second (each attempt counts);
	// RateBurst is the burst (<= 0: 1).
	RateLimit rate.Limit
	RateBurst int
	// MaxConcurrent, if > 0, bounds requests in flight at once across all
	// calls. A call waiting between retries holds no slot.
	MaxConcurrent int

	// TopicsPath is the topics endpoint (empty: DefaultTopicsPath).
	TopicsPath string
	// UserAgent is sent as User-Agent (empty: "gpdoc").
	UserAgent string
	// Logger receives one Debug record per attempt and a Warn per retry
	// (nil: nothing is logged), through internal/redact's handler: records
	// never hold the key, the token or a full NHS number.
	Logger *slog.Logger
	// Clock reads the time and waits between attempts (nil: SystemClock).
	Clock Clock
	// OnAttempt, if set, is called once per HTTP attempt of Send (after the
	// answer, or the failure to get one): the route's name, the status (0:
	// no answer), the attempt's time and whether it will be retried. For
	// metrics (package metrics); it must be quick and safe for concurrent
	// use.
	OnAttempt func(route string, status int, d time.Duration, retried bool)
}

// Client talks to the conneQt API. It is safe for concurrent use; make one
// and share it, so that connections are reused.
type Client struct {
	base        *url.URL
	apiKey      string
	accessToken string
	hc          *http.Client
	opts        Options
	limiter     *rate.Limiter
	slots       chan struct{}
	log         *slog.Logger
	clock       Clock
}

// SendResult is the outcome of an accepted send.
type SendResult struct {
	// StatusEndpoint is the messageStatusEndpoint the service returned,
	// resolved against the base URL to an absolute URL.
	StatusEndpoint string
	// Attempts is how many requests it took.
	Attempts int
}

// MessageStatus is a message's delivery status as the status endpoint gives it.
type MessageStatus struct {
	MessageID string `json:"messageId,omitempty"`
	Status    string `json:"status"`
	SubStatus string `json:"subStatus,omitempty"`
	// Type is the message's type now: an instant message that failed to
	// import, or expired unprocessed, becomes a ToolbarMessage.
	Type        string    `json:"type,omitempty"`
	LastUpdated time.Time `json:"lastUpdated,omitzero"`
	Reason      string    `json:"reason,omitempty"`
}

// Terminal reports whether the status can no longer change: REJECTED,
// COMPLETED or EXPIRED (the service's documented terminal states).
func (s *MessageStatus) Terminal() bool {
	switch strings.ToUpper(s.Status) {
	case "REJECTED", "COMPLETED", "EXPIRED":
		return true
	}
	return false
}

// New returns a Client. It fails for a missing or insecure BaseURL or a
// missing APIKey.
func New(opts Options) (*Client, error) {
	if opts.APIKey == "" {
		return nil, errors.New("transport: no API key")
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("transport: base URL %q is not an absolute URL", opts.BaseURL)
	}
	if err := checkSecure(base); err != nil {
		return nil, err
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxElapsed <= 0 {
		opts.MaxElapsed = DefaultMaxElapsed
	}
	if opts.PerAttemptTimeout <= 0 {
		opts.PerAttemptTimeout = DefaultPerAttemptTimeout
	}
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.TopicsPath == "" {
		opts.TopicsPath = DefaultTopicsPath
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "gpdoc"
	}
	// Whatever gpdoc writes out from now on (errors, logs, reports, the
	// ledger) goes through internal/redact, which removes these.
	redact.Register(opts.APIKey, opts.AccessToken)
	c := &Client{base: base, apiKey: opts.APIKey, accessToken: opts.AccessToken, opts: opts,
		log: opts.Logger, clock: opts.Clock}
	opts.APIKey, opts.AccessToken = "", ""
	c.opts = opts
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	} else {
		c.log = slog.New(redact.NewHandler(c.log.Handler()))
	}
	if c.clock == nil {
		c.clock = SystemClock{}
	}
	if opts.HTTPClient != nil {
		hc := *opts.HTTPClient
		c.hc = &hc
	} else {
		conns := opts.MaxConnsPerHost
		if conns <= 0 {
			conns = max(opts.MaxConcurrent, DefaultMaxConnsPerHost)
		}
		c.hc = &http.Client{Transport: newTransport(conns)}
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if opts.RateLimit > 0 {
		c.limiter = rate.NewLimiter(opts.RateLimit, max(opts.RateBurst, 1))
	}
	if opts.MaxConcurrent > 0 {
		c.slots = make(chan struct{}, opts.MaxConcurrent)
	}
	return c, nil
}

// newTransport is a transport for many requests to one host: connections
// are kept and reused (the idle pool is as large as the connection limit,
// so bursts do not close and reopen them).
func newTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = conns
	t.MaxIdleConnsPerHost = conns
	t.MaxIdleConns = max(conns, 100)
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 0 // bounded by PerAttemptTimeout
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return t
}

// checkSecure refuses plain HTTP to anything but loopback.
func checkSecure(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s is plain http to a non-loopback host; the API key must not travel in clear text (use https)", ErrInsecure, u.Redacted())
	}
	return fmt.Errorf("%w: unsupported URL scheme %q", ErrInsecure, u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the client without its secrets, so that printing or
// logging a *Client never shows the key or token.
func (c *Client) String() string { return "transport.Client(" + c.base.Redacted() + ")" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// BaseURL returns the base URL the client sends to.
func (c *Client) BaseURL() string { return c.base.String() }

// resolve resolves ref (a path or an absolute URL) against the base URL and
// refuses a result on another host or scheme, where the ApiKey must not go.
func (c *Client) resolve(ref string) (*url.URL, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("transport: bad endpoint %q: %w", ref, err)
	}
	u := c.base.ResolveReference(r)
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
		return nil, fmt.Errorf("%w: endpoint %s is not on %s", ErrInsecure, u.Redacted(), c.base.Host)
	}
	return u, nil
}

// endpoint returns the URL of an API path (route path, topics, test),
// which is relative to the base URL: a base of https://h/prefix gives
// https://h/prefix/api/v1/messages.
func (c *Client) endpoint(path string) *url.URL {
	u := c.base.JoinPath(path)
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path
		u.RawPath = ""
	}
	return u
}

// request is one logical call, attempted up to MaxAttempts times.
type request struct {
	method    string
	u         *url.URL
	messageID string
	body      pipeline.Payload // nil for GET
	token     bool             // send the AccessToken header
	retry     func(status int) bool
	accept    func(status int) bool // success statuses (nil: 2xx)
	status    int                   // the success status answered, set by attempt
	route     string                // the route's name, for Options.OnAttempt (Send only)
	tried     bool                  // set by attempt once a request went out
	answered  int                   // the last attempt's status (0: none)
	took      time.Duration         // the last attempt's time
}

// Send posts an assembled message to route's endpoint and returns the
// status endpoint. body is read afresh for every attempt (NewReader) and
// sent with Content-Length = body.Size(); messageID is the message's
// messageId (the same on every attempt: it is in body), used in logs and
// errors. Errors are an *APIError, a *NetworkError, ctx's error (wrapped,
// with the attempts made), ErrAccessTokenRequired or ErrInsecure; see
// conneqt.Classify.
func (c *Client) Send(ctx context.Context, route *conneqt.Route, messageID string, body pipeline.Payload) (*SendResult, error) {
	if route == nil || body == nil {
		return nil, errors.New("transport: Send needs a route and a body")
	}
	if route.AccessToken == conneqt.TokenRequired && c.accessToken == "" {
		return nil, fmt.Errorf("transport: %s route (messageId %s): %w", route.Name, messageID, ErrAccessTokenRequired)
	}
	u := c.endpoint(route.Path)
	req := &request{
		method: http.MethodPost, u: u, messageID: messageID, body: body,
		token: route.AccessToken == conneqt.TokenRequired || (route.AccessToken == conneqt.TokenWhenConfigured && c.accessToken != ""),
		retry: route.Retryable, // the route table is the one list of retry statuses
		route: string(route.Name),
	}
	var out struct {
		MessageStatusEndpoint string `json:"messageStatusEndpoint"`
	}
	attempts, err := c.do(ctx, req, &out)
	unconfirmed := func(status int, reason string, err error) *UnconfirmedError {
		return &UnconfirmedError{Method: req.method, Path: u.Path, MessageID: messageID, Status: status,
			Reason: reason, Attempts: attempts, Err: err}
	}
	if err != nil {
		// Bytes left and an answer came whose meaning is not known: a
		// success gpdoc cannot read, or a redirect (never followed).
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 200 && ae.Status < 400 {
			reason := "the body is not the API's JSON"
			if ae.Status >= 300 {
				reason = "gpdoc follows no redirect"
			}
			return nil, unconfirmed(ae.Status, reason, err)
		}
		return nil, err
	}
	if out.MessageStatusEndpoint == "" {
		return nil, unconfirmed(req.status, "the answer holds no messageStatusEndpoint", nil)
	}
	ep, err := c.resolve(out.MessageStatusEndpoint)
	if err != nil {
		return nil, unconfirmed(req.status, "its messageStatusEndpoint cannot be used", err)
	}
	return &SendResult{StatusEndpoint: ep.String(), Attempts: attempts}, nil
}

// Status reads a message's status from its status endpoint: the
// messageStatusEndpoint a send returned (absolute, or a path resolved
// against the base URL). The endpoint is never built from a messageId: the
// service's pages disagree on its shape (docs/spec.md#status-and-topics), so a bare id is
// refused. The service asks for at most 4 polls a day per message.
func (c *Client) Status(ctx context.Context, endpoint string) (*MessageStatus, error) {
	if endpoint == "" || (!strings.Contains(endpoint, "/")) {
		return nil, fmt.Errorf("transport: %q is not a status endpoint; use the messageStatusEndpoint a send returned", endpoint)
	}
	u, err := c.resolve(endpoint)
	if err != nil {
		return nil, err
	}
	var st MessageStatus
	if _, err := c.do(ctx, c.get(u), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Topics returns the topics a message may carry (GET TopicsPath). It reads
// a JSON array of strings, or of objects with a "name", "topic", "value" or
// "code" member, or an object holding such an array under "topics".
func (c *Client) Topics(ctx context.Context) ([]string, error) {
	u := c.endpoint(c.opts.TopicsPath)
	var raw json.RawMessage
	if _, err := c.do(ctx, c.get(u), &raw); err != nil {
		return nil, err
	}
	return parseTopics(raw)
}

// parseTopics reads the shapes Topics accepts.
func parseTopics(raw []byte) ([]string, error) {
	var wrapped struct {
		Topics json.RawMessage `json:"topics"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Topics != nil {
		raw = wrapped.Topics
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("transport: topics: not a JSON array: %w", err)
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			out = append(out, s)
			continue
		}
		var obj map[string]any
		if json.Unmarshal(it, &obj) == nil {
			found := false
			for _, k := range []string{"name", "topic", "value", "code"} {
				if v, ok := obj[k].(string); ok {
					out = append(out, v)
					found = true
					break
				}
			}
			if found {
				continue
			}
		}
		return nil, fmt.Errorf("transport: topics: item %d is neither a string nor a topic object", i)
	}
	return out, nil
}

// Ping checks that the service answers and knows the key (GET /api/v1/test).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.do(ctx, c.get(c.endpoint(DefaultPingPath)), nil)
	return err
}

// ExchangeAccessCode trades a one-time access code (valid for 60 seconds)
// for an instant-messaging AccessToken. It is not retried: a code is single
// use. The token is returned, not stored: make a Client with it.
func (c *Client) ExchangeAccessCode(ctx context.Context, accessCode string) (string, error) {
	u := c.endpoint(DefaultAccessTokenPath)
	b, _ := json.Marshal(map[string]string{"accessCode": accessCode})
	req := &request{method: http.MethodPost, u: u, body: BytesPayload(b), retry: func(int) bool { return false }}
	var out struct {
		Token string `json:"token"`
	}
	if _, err := c.doOnce(ctx, req, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("transport: access token answer holds no token")
	}
	return out.Token, nil
}

func (c *Client) get(u *url.URL) *request {
	return &request{method: http.MethodGet, u: u, retry: conneqt.RetryableRead}
}

func (c *Client) doOnce(ctx context.Context, r *request, out any) (int, error) {
	return c.loop(ctx, r, out, 1)
}

func (c *Client) do(ctx context.Context, r *request, out any) (int, error) {
	return c.loop(ctx, r, out, c.opts.MaxAttempts)
}

// loop makes up to maxAttempts attempts of r and decodes a success answer
// into out (if non-nil).
func (c *Client) loop(ctx context.Context, r *request, out any, maxAttempts int) (int, error) {
	start := c.clock.Now()
	sched := newSchedule(c.opts.InitialBackoff, c.opts.MaxBackoff)
	var lastErr error
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return attempt - 1, c.stopped(r, attempt-1, err, lastErr)
		}
		r.tried = false
		retryAfter, err := c.attempt(ctx, r, attempt, out)
		if err == nil {
			c.onAttempt(r, false)
			return attempt, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			c.onAttempt(r, false)
			return attempt, c.stopped(r, attempt, ctx.Err(), nil)
		}
		if !temporary(err) || attempt >= maxAttempts {
			c.onAttempt(r, false)
			return attempt, err
		}
		wait := sched.next()
		if retryAfter >= 0 {
			wait = retryAfter
		}
		elapsed := c.clock.Now().Sub(start)
		if elapsed+wait > c.opts.MaxElapsed {
			c.log.LogAttrs(ctx, slog.LevelDebug, "transport: giving up: next wait would pass the time limit",
				slog.String("path", r.u.Path), slog.String("messageId", r.messageID), slog.Int("attempts", attempt),
				slog.Duration("wait", wait), slog.Duration("elapsed", elapsed))
			c.onAttempt(r, false)
			return attempt, err
		}
		c.onAttempt(r, true)
		c.log.LogAttrs(ctx, slog.LevelWarn, "transport: retrying",
			slog.String("method", r.method), slog.String("path", r.u.Path), slog.String("messageId", r.messageID),
			slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return attempt, c.stopped(r, attempt, err, lastErr)
		}
	}
}

// stopped is the error for a call ended by its context: ctx's error
// (errors.Is matches context.Canceled / DeadlineExceeded), saying how far
// it got.
func (c *Client) stopped(r *request, attempts int, ctxErr, last error) error {
	id := ""
	if r.messageID != "" {
		id = " (messageId " + r.messageID + ")"
	}
	if last != nil {
		return fmt.Errorf("transport: %s %s%s: stopped after %d attempts (last: %v): %w",
			r.method, r.u.Path, id, attempts, last, ctxErr)
	}
	return fmt.Errorf("transport: %s %s%s: stopped after %d attempts: %w", r.method, r.u.Path, id, attempts, ctxErr)
}

func temporary(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Temporary()
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return ne.Temporary()
	}
	return false
}

// attempt makes one request. It returns the Retry-After wait the answer
// asked for (-1 if none) and nil, an *APIError or a *NetworkError.
func (c *Client) attempt(ctx context.Context, r *request, n int, out any) (retryAfter time.Duration, err error) {
	retryAfter = -1
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
			defer func() { <-c.slots }()
		case <-ctx.Done():
			return retryAfter, ctx.Err()
		}
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return retryAfter, ctx.Err()
			}
			return retryAfter, &NetworkError{Method: r.method, Path: r.u.Path, MessageID: r.messageID, Attempts: n, Err: err}
		}
	}
	actx, cancel := context.WithTimeout(ctx, c.opts.PerAttemptTimeout)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = r.body.NewReader()
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.u.String(), body)
	if err != nil {
		return retryAfter, err
	}
	if r.body != nil {
		p := r.body
		req.ContentLength = p.Size()
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(p.NewReader()), nil }
		if p.Size() == 0 {
			req.Body = http.NoBody
		}
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("ApiKey", c.apiKey)
	if r.token {
		req.Header.Set("AccessToken", c.accessToken)
	}
	began := time.Now()
	resp, err := c.hc.Do(req)
	r.tried, r.took, r.answered = true, time.Since(began), 0
	if resp != nil {
		r.answered = resp.StatusCode
	}
	if err != nil {
		if ctx.Err() != nil {
			return retryAfter, ctx.Err()
		}
		c.logAttempt(ctx, r, n, 0, began, err)
		return retryAfter, &NetworkError{Method: r.method, Path: r.u.Path, MessageID: r.messageID, Attempts: n,
			Err: scrub(err), permanent: permanentNetErr(err)}
	}
	defer resp.Body.Close()
	c.logAttempt(ctx, r, n, resp.StatusCode, began, nil)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		r.status = resp.StatusCode
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody))
		if err != nil {
			if ctx.Err() != nil {
				return retryAfter, ctx.Err()
			}
			return retryAfter, &NetworkError{Method: r.method, Path: r.u.Path, MessageID: r.messageID, Attempts: n,
				Err: fmt.Errorf("reading the answer: %w", err)}
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return retryAfter, &APIError{Method: r.method, Path: r.u.Path, MessageID: r.messageID, Status: resp.StatusCode,
					BodyPrefix: prefix(data), Attempts: n}
			}
		}
		return retryAfter, nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	ae := &APIError{Method: r.method, Path: r.u.Path, MessageID: r.messageID, Status: resp.StatusCode, Attempts: n}
	ae.Problem = parseProblem(data)
	if ae.Problem == nil {
		ae.BodyPrefix = prefix(data)
	}
	if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now()); ok {
		ae.RetryAfter = d
	}
	ae.retryable = r.retry(resp.StatusCode)
	if ae.retryable && resp.Header.Get("Retry-After") != "" {
		retryAfter = ae.RetryAfter
	}
	return retryAfter, ae
}

// onAttempt calls Options.OnAttempt for an attempt of Send that went out.
func (c *Client) onAttempt(r *request, retried bool) {
	if c.opts.OnAttempt != nil && r.route != "" && r.tried {
		c.opts.OnAttempt(r.route, r.answered, r.took, retried)
	}
}

func (c *Client) logAttempt(ctx context.Context, r *request, n, status int, began time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("method", r.method), slog.String("path", r.u.Path),
		slog.Int("attempt", n), slog.Duration("elapsed", time.Since(began))}
	if r.messageID != "" {
		attrs = append(attrs, slog.String("messageId", r.messageID))
	}
	if r.body != nil {
		attrs = append(attrs, slog.Int64("bytes", r.body.Size()))
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", scrub(err).Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "transport: attempt", attrs...)
}

// scrub drops the URL's user info from a *url.Error (it never holds the
// key, which travels in a header, but a base URL might carry a password).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			return &url.Error{Op: ue.Op, URL: u.Redacted(), Err: ue.Err}
		}
	}
	return err
}

// parseProblem reads an RFC 7807 problem; nil if data is not one.
func parseProblem(data []byte) *conneqt.ProblemDetails {
	var p conneqt.ProblemDetails
	if len(data) == 0 || json.Unmarshal(data, &p) != nil {
		return nil
	}
	if p.Type == "" && p.Title == "" && p.Status == 0 && p.Detail == "" && len(p.InvalidParameters) == 0 {
		return nil
	}
	// What the service says ends up in logs, reports and the ledger: never
	// keep a full NHS number from it.
	p.Type, p.Instance = redact.String(p.Type), redact.String(p.Instance)
	p.Title, p.Detail = redactBody(p.Title), redactBody(p.Detail)
	for i := range p.InvalidParameters {
		p.InvalidParameters[i].Name = redactBody(p.InvalidParameters[i].Name)
		p.InvalidParameters[i].Reason = redactBody(p.InvalidParameters[i].Reason)
		p.InvalidParameters[i].Value = redactBody(p.InvalidParameters[i].Value)
	}
	return &p
}

// prefix returns the start of a body as valid UTF-8, for messages.
func prefix(data []byte) string {
	// Redact before cutting: a secret cut in two would no longer match.
	if len(data) > 4*maxBodyPrefix {
		data = data[:4*maxBodyPrefix]
	}
	s := redactBody(strings.ToValidUTF8(string(data), "\uFFFD"))
	for len(s) > maxBodyPrefix || !utf8.ValidString(s) {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// redactBody is for text the service sent: every number written like an
// NHS number masked (valid or not: nhsnumber.Redact), and the client's own
// key and token, which a server may echo, removed (internal/redact).
func redactBody(s string) string { return redact.String(nhsnumber.Redact(s)) }
