package conneqttest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/semaphore"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

// EICAR is the anti-virus test string (docs/spec.md#eicar-test-file): a decoded attachment
// that starts with it is answered 406.
const EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// Problem types the simulator answers with.
const (
	VirusProblemType        = "https://docs.quicksilva.info/toolbar/articles/error-types/api/v1/virus-scan-failed.html"
	UnauthorizedProblemType = "https://qxlva.com/im1toolbar/documentation/api/v1/unauthorized"
	ForbiddenProblemType    = "https://qxlva.com/im1toolbar/documentation/api/v1/forbidden"
	ConflictProblemType     = "https://qxlva.com/im1toolbar/documentation/api/v1/conflict"
	UnavailableProblemType  = "https://qxlva.com/im1toolbar/documentation/api/v1/mesh-unavailable"
	InternalProblemType     = "https://qxlva.com/im1toolbar/documentation/api/v1/internal-error"
)

// DefaultTopics are the topics GET /api/v1/topics lists when Options.Topics
// is nil (those of the pages' examples).
var DefaultTopics = []string{"Health", "DispenseEventNotification", "ConsultationSummary", "Correspondence", "TestResults"}

// DefaultStatusPaths are the status endpoint patterns the simulator returns
// per route, as the status pages give them ({id} is the messageId).
var DefaultStatusPaths = map[conneqt.RouteName]string{
	conneqt.Standard:  "/api/v1/messages/{id}/status",
	conneqt.Instant:   "/api/v1/messages/{id}/status",
	conneqt.GPConnect: "/api/v1/gpconnect/messages/{id}/status",
}

// Message states.
const (
	StatePending   = "PENDING"
	StateDelivered = "DELIVERED"
	StateCompleted = "COMPLETED"
	StateRejected  = "REJECTED"
	StateExpired   = "EXPIRED"
)

// Sub-states.
const (
	SubStatusImported         = "Imported"
	SubStatusFailedImport     = "Failed instant message import"
	SubStatusInstantExpired   = "Instant message expired"
	SubStatusRejectedByClient = "Rejected by recipient"
)

// Options configures a Server. The zero value serves the route table with
// one generated API key, no access tokens, the default topics, CheckMessage
// validation and no faults.
type Options struct {
	// APIKeys are the keys the server knows (nil: one random key; see
	// Server.APIKey).
	APIKeys []string
	// AccessTokens are AccessToken values granted instant messaging.
	AccessTokens []string
	// Topics are the known topics; a message with another topic is a 400
	// (nil: DefaultTopics).
	Topics []string
	// Recipients, if set, are the only recipient.id.value values known; any
	// other is a 400 "Unknown Recipient" (nil: any).
	Recipients []string
	// Routes are the routes served (nil: the route table's three).
	Routes []*conneqt.Route
	// Validate checks a decoded message (nil: CheckMessage with the
	// server's clock). Wire gpdoc's validate stage in here to make the
	// simulator as strict as gpdoc is.
	Validate func(route *conneqt.Route, msg *conneqt.Message) []conneqt.Problem
	// Faults are injected from the start (see SetFaults).
	Faults Faults
	// Now is the server's clock (nil: time.Now).
	Now func() time.Time
	// DeliverAfter and CompleteAfter, if > 0, move a message to DELIVERED
	// and then COMPLETED that long after it was accepted (0: only the Go
	// API moves them).
	DeliverAfter, CompleteAfter time.Duration
	// InstantFallback is how long an instant message may stay PENDING
	// before it becomes a standard one (<= 0: 10 minutes, the service's).
	InstantFallback time.Duration
	// DefaultExpiry applies to standard messages without expiryDateTime
	// (<= 0: 7 days, the service's).
	DefaultExpiry time.Duration
	// MaxBodyBytes bounds a request body (<= 0: DefaultMaxBodyBytes, 80 MiB);
	// a larger one is answered 413.
	MaxBodyBytes int64
	// MaxBodyBytesInFlight bounds the request bodies held at once (<= 0:
	// DefaultMaxBodyBytesInFlight, 128 MiB; a body of unknown length counts
	// as MaxBodyBytes). Memory is about three times this: the body, its
	// decoded JSON and the decoded attachments. A request waits up to
	// BodyWait for room and is then answered 503 with Retry-After: 1.
	MaxBodyBytesInFlight int64
	// BodyWait is how long a message request waits for room in
	// MaxBodyBytesInFlight (<= 0: DefaultBodyWait, 30 s).
	BodyWait time.Duration
	// KeepBodies keeps every accepted message's decoded attachments
	// (Accepted.Message.Attachments[i].Data) for the server's life, for
	// tests that compare bytes. Without it they are kept only while the
	// total kept stays within MaxKeptBytes; after that an accepted message
	// keeps its envelope and Accepted.Attachments (SHA-256 and size) only.
	KeepBodies bool
	// MaxKeptBytes bounds the attachment bytes kept without KeepBodies
	// (<= 0: DefaultMaxKeptBytes, 64 MiB).
	MaxKeptBytes int64
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are the http.Server's
	// (for NewServer, NewUnstartedServer and HTTPServer): a request's
	// headers, a whole request, and a kept-alive connection's idle time
	// (<= 0: 10 s, 2 min, 2 min). A slow body is cut off at ReadTimeout.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// Logger receives one Info record per answered message request (nil:
	// none). Records never hold keys, tokens or content.
	Logger *slog.Logger
}

// Accepted is one stored message, as tests inspect it.
type Accepted struct {
	Route    conneqt.RouteName
	Message  *conneqt.Message // attachments decoded (Data), while BodiesKept
	Received time.Time
	Endpoint string // the messageStatusEndpoint answered
	Digest   string // see messageDigest
	Bytes    int64  // request body size
	// Attachments describe the decoded attachments (always kept).
	Attachments []AttachmentDigest
	// BodiesKept reports whether Message's attachments still hold their
	// Data (see Options.KeepBodies and MaxKeptBytes).
	BodiesKept bool
}

// MessageStatus is what a status endpoint answers.
type MessageStatus struct {
	MessageID   string    `json:"messageId"`
	Type        string    `json:"type"`
	Status      string    `json:"status"`
	SubStatus   string    `json:"subStatus,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	LastUpdated time.Time `json:"lastUpdated"`
	Expiry      time.Time `json:"expiryDateTime,omitzero"`
}

// Stats counts what the server saw. Read it with Server.Stats or GET
// /_sim/stats.
type Stats struct {
	Requests      int64 `json:"requests"`      // every request, any endpoint
	Messages      int64 `json:"messages"`      // message POSTs
	Accepted      int64 `json:"accepted"`      // distinct messages stored
	Duplicates    int64 `json:"duplicates"`    // same messageId and content again
	Rejected      int64 `json:"rejected"`      // 4xx answers to message POSTs
	Invalid       int64 `json:"invalid"`       // of which 400
	Virus         int64 `json:"virus"`         // of which 406
	Conflicts     int64 `json:"conflicts"`     // of which 409
	Faults        int64 `json:"faults"`        // injected 5xx answers and drops
	Dropped       int64 `json:"dropped"`       // of which dropped connections
	LostResponses int64 `json:"lostResponses"` // faults injected after storing
	BytesReceived int64 `json:"bytesReceived"` // message request bodies
	BytesAccepted int64 `json:"bytesAccepted"` // bodies of stored messages
	// Overloaded counts message requests answered 503 or 413 because
	// their body did not fit in Options.MaxBodyBytesInFlight.
	Overloaded int64 `json:"overloaded"`
	// BodyBytesInFlight is the body bytes reserved by requests now in
	// progress.
	BodyBytesInFlight int64 `json:"bodyBytesInFlight"`
	// ByStatus counts answers to message POSTs by HTTP status ("dropped"
	// for dropped connections).
	ByStatus map[string]int64 `json:"byStatus"`
}

type record struct {
	acc    Accepted
	route  *conneqt.Route
	status MessageStatus
	expiry time.Time
}

// Server is a running (or runnable) simulator. It is an http.Handler.
type Server struct {
	// URL is the base URL, set by Start (empty for a handler not started).
	URL string

	opts     Options
	routes   map[string]*conneqt.Route // by POST path
	mux      *http.ServeMux
	hs       *httptest.Server
	validate func(*conneqt.Route, *conneqt.Message) []conneqt.Problem

	mu       sync.Mutex
	keys     map[string]bool
	tokens   map[string]bool
	codes    map[string]time.Time
	topics   []string
	messages map[string]*record
	order    []string
	seen     map[string]int // requests per messageId, for fault decisions
	anon     int            // message requests without a readable messageId
	stats    Stats
	faults   Faults
	script   []Fault
	kept     int64 // attachment bytes kept (Options.MaxKeptBytes)

	bodies *semaphore.Weighted // Options.MaxBodyBytesInFlight
}

// New returns a simulator handler that is not listening: serve it with
// your own http.Server (as `gpdoc sim` does) or use NewServer.
func New(opts Options) *Server {
	s := &Server{opts: opts, routes: map[string]*conneqt.Route{}, mux: http.NewServeMux(),
		keys: map[string]bool{}, tokens: map[string]bool{}, codes: map[string]time.Time{},
		messages: map[string]*record{}, seen: map[string]int{}, faults: opts.Faults}
	s.stats.ByStatus = map[string]int64{}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	if s.opts.InstantFallback <= 0 {
		s.opts.InstantFallback = 10 * time.Minute
	}
	if s.opts.DefaultExpiry <= 0 {
		s.opts.DefaultExpiry = 7 * 24 * time.Hour
	}
	s.applyBoundDefaults()
	s.bodies = semaphore.NewWeighted(s.opts.MaxBodyBytesInFlight)
	if s.opts.Logger == nil {
		s.opts.Logger = slog.New(slog.DiscardHandler)
	}
	keys := opts.APIKeys
	if len(keys) == 0 {
		keys = []string{"sim-" + randomHex(12)}
	}
	s.opts.APIKeys = slices.Clone(keys)
	for _, k := range keys {
		s.keys[k] = true
	}
	for _, t := range opts.AccessTokens {
		s.tokens[t] = true
	}
	s.topics = slices.Clone(opts.Topics)
	if s.topics == nil {
		s.topics = slices.Clone(DefaultTopics)
	}
	s.validate = opts.Validate
	if s.validate == nil {
		s.validate = func(r *conneqt.Route, m *conneqt.Message) []conneqt.Problem {
			return CheckMessage(r, m, s.opts.Now())
		}
	}
	routes := opts.Routes
	if routes == nil {
		for _, n := range conneqt.RouteNames() {
			routes = append(routes, conneqt.MustRoute(n))
		}
	}
	statusPrefixes := map[string]bool{}
	for _, r := range routes {
		s.routes[r.Path] = r
		s.mux.HandleFunc("POST "+r.Path, s.handleMessage)
		if p := statusPath(r); !statusPrefixes[p] {
			statusPrefixes[p] = true
			s.mux.HandleFunc("GET "+p, s.handleStatus)
		}
	}
	s.mux.HandleFunc("GET /api/v1/topics", s.handleTopics)
	s.mux.HandleFunc("GET /api/v1/test", s.handleTest)
	s.mux.HandleFunc("POST /api/v1/messages/instant/access/token", s.handleAccessToken)
	s.mux.HandleFunc("GET /_sim/stats", s.handleStats)
	return s
}

// NewUnstartedServer returns a simulator on a loopback port that is not yet
// listening; call Start.
func NewUnstartedServer(opts Options) *Server {
	s := New(opts)
	s.hs = httptest.NewUnstartedServer(s)
	s.setTimeouts(s.hs.Config)
	return s
}

// NewServer returns a started simulator on a loopback port. Close it when
// done.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// Start starts a server made by NewUnstartedServer and sets URL.
func (s *Server) Start() {
	if s.hs == nil {
		panic("conneqttest: Start on a Server not made by NewUnstartedServer")
	}
	s.hs.Start()
	s.URL = s.hs.URL
}

// Close stops the server (waiting for requests in flight) and closes its
// idle connections.
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.Close()
	}
}

// Client returns an *http.Client for the server (httptest's), for tests
// that talk to it directly.
func (s *Server) Client() *http.Client {
	if s.hs != nil {
		return s.hs.Client()
	}
	return http.DefaultClient
}

// APIKey returns the first API key the server knows.
func (s *Server) APIKey() string { return s.opts.APIKeys[0] }

// GrantAccessToken makes a new AccessToken valid for instant messaging and
// returns it.
func (s *Server) GrantAccessToken() string {
	t := uuid.NewString()
	s.mu.Lock()
	s.tokens[t] = true
	s.mu.Unlock()
	return t
}

// AddAccessCode registers a one-time access code, valid for 60 seconds,
// that POST /api/v1/messages/instant/access/token exchanges for a token.
func (s *Server) AddAccessCode(code string) {
	s.mu.Lock()
	s.codes[code] = s.opts.Now().Add(60 * time.Second)
	s.mu.Unlock()
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	s.mux.ServeHTTP(w, r)
}

func statusPath(r *conneqt.Route) string {
	if p, ok := DefaultStatusPaths[r.Name]; ok {
		return p
	}
	return "/api/v1/messages/{id}/status"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeProblem answers an RFC 7807 problem.
func writeProblem(w http.ResponseWriter, p *conneqt.ProblemDetails, retryAfter string) {
	if p.Instance == "" {
		p.Instance = "urn:uuid:" + uuid.NewString()
	}
	w.Header().Set("Content-Type", conneqt.ProblemContentType)
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(status int, typ, title, detail string) *conneqt.ProblemDetails {
	return &conneqt.ProblemDetails{Type: typ, Title: title, Status: status, Detail: detail}
}

// authorise answers 401 and reports false unless the request carries a
// known ApiKey.
func (s *Server) authorise(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("ApiKey")
	s.mu.Lock()
	ok := key != "" && s.keys[key]
	s.mu.Unlock()
	if !ok {
		detail := "Missing or invalid API key in the request header"
		if key == "" {
			detail = "Missing ApiKey header"
		}
		writeProblem(w, problem(http.StatusUnauthorized, UnauthorizedProblemType, "Unauthorized", detail), "")
	}
	return ok
}

func (s *Server) handleTest(w http.ResponseWriter, r *http.Request) {
	if s.authorise(w, r) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "OK"})
	}
}

func (s *Server) handleTopics(w http.ResponseWriter, r *http.Request) {
	if !s.authorise(w, r) {
		return
	}
	s.mu.Lock()
	t := slices.Clone(s.topics)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) handleAccessToken(w http.ResponseWriter, r *http.Request) {
	if !s.authorise(w, r) {
		return
	}
	var in struct {
		AccessCode string `json:"accessCode"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.AccessCode == "" {
		vp := &conneqt.ValidationError{Problems: []conneqt.Problem{{Name: "accessCode", Reason: "required: the one-time code shown to the user"}}}
		writeProblem(w, vp.ProblemDetails(""), "")
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	exp, ok := s.codes[in.AccessCode]
	delete(s.codes, in.AccessCode)
	var tok string
	if ok && now.Before(exp) {
		tok = uuid.NewString()
		s.tokens[tok] = true
	}
	s.mu.Unlock()
	if tok == "" {
		writeProblem(w, problem(http.StatusGone, ForbiddenProblemType, "Gone", "The access code is unknown, used or expired (codes live 60 seconds)"), "")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// handleMessage serves the three message endpoints.
func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request) {
	route := s.routes[r.URL.Path]
	answer := func(status int) { s.count(func(st *Stats) { st.ByStatus[strconv.Itoa(status)]++ }) }
	s.count(func(st *Stats) { st.Messages++ })
	if !s.authorise(w, r) {
		answer(http.StatusUnauthorized)
		s.count(func(st *Stats) { st.Rejected++ })
		return
	}
	if route.AccessToken == conneqt.TokenRequired {
		tok := r.Header.Get("AccessToken")
		s.mu.Lock()
		granted := tok != "" && s.tokens[tok]
		s.mu.Unlock()
		if !granted {
			detail := "This route needs an AccessToken header granted for instant messaging"
			if tok != "" {
				detail = "The AccessToken is not granted for instant messaging"
			}
			writeProblem(w, problem(http.StatusForbidden, ForbiddenProblemType, "Forbidden", detail), "")
			answer(http.StatusForbidden)
			s.count(func(st *Stats) { st.Rejected++ })
			return
		}
	}
	reject := func(p *conneqt.ProblemDetails, field *int64) {
		writeProblem(w, p, "")
		answer(p.Status)
		s.count(func(st *Stats) {
			st.Rejected++
			if field != nil {
				*field++
			}
		})
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		reject(problem(http.StatusUnsupportedMediaType, conneqt.ValidationProblemType, "Unsupported Media Type", "Content-Type must be application/json"), nil)
		return
	}
	release := s.reserveBody(w, r)
	if release == nil {
		return
	}
	defer release()
	body, err := readBody(w, r, s.opts.MaxBodyBytes)
	s.count(func(st *Stats) { st.BytesReceived += int64(len(body)) })
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			reject(problem(http.StatusRequestEntityTooLarge, conneqt.ValidationProblemType, "Request Too Large",
				fmt.Sprintf("The request body is larger than %d bytes", s.opts.MaxBodyBytes)), nil)
		}
		return // the client went away
	}

	msg, probs, err := DecodeMessage(body)
	if err != nil {
		ve := &conneqt.ValidationError{Problems: []conneqt.Problem{{Name: "body", Reason: err.Error()}}}
		reject(ve.ProblemDetails(""), &s.stats.Invalid)
		return
	}
	// The virus scan comes first: the service scans every incoming document,
	// and a 406 (never resend) must win over a validation problem that the
	// same EICAR content also is for gpdoc's validate stage.
	for _, a := range msg.Attachments {
		if a != nil && bytes.Contains(a.Data, []byte(EICAR)) {
			reject(problem(http.StatusNotAcceptable, VirusProblemType, "Virus Scan Failed",
				"An attachment failed virus scanning; it must not be resent"), &s.stats.Virus)
			s.log(r, route, msg.MessageID, http.StatusNotAcceptable)
			return
		}
	}
	seenProb := map[string]bool{}
	for _, p := range probs {
		seenProb[p.Name] = true
	}
	for _, p := range s.serverChecks(msg) {
		probs = append(probs, p)
		seenProb[p.Name] = true
	}
	for _, p := range s.validate(route, msg) {
		if !seenProb[p.Name] {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		var sorted pipeline.Document // sorts problems by JSON path, attachments[2] before attachments[10]
		sorted.AddProblem(probs...)
		reject((&conneqt.ValidationError{Problems: sorted.Problems()}).ProblemDetails(""), &s.stats.Invalid)
		s.log(r, route, msg.MessageID, http.StatusBadRequest)
		return
	}

	ds := digests(msg)
	digest := messageDigest(msg, ds)

	fault := s.decideFault(route, msg.MessageID)
	if fault.Latency > 0 {
		select {
		case <-time.After(fault.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if fault.active() && !fault.AfterStore {
		s.inject(w, fault, false)
		s.log(r, route, msg.MessageID, fault.Status)
		return
	}

	s.mu.Lock()
	rec, exists := s.messages[msg.MessageID]
	switch {
	case exists && rec.acc.Digest != digest:
		s.mu.Unlock()
		reject(problem(http.StatusConflict, ConflictProblemType, "Conflict",
			"messageId "+msg.MessageID+" was already used for a message with different content; a new message needs a new messageId"), &s.stats.Conflicts)
		s.log(r, route, msg.MessageID, http.StatusConflict)
		return
	case exists:
		s.stats.Duplicates++
	default:
		rec = s.store(route, msg, ds, digest, int64(len(body)))
	}
	endpoint := rec.acc.Endpoint
	s.mu.Unlock()

	if fault.active() {
		s.inject(w, fault, true)
		s.log(r, route, msg.MessageID, fault.Status)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"messageStatusEndpoint": endpoint})
	answer(http.StatusOK)
	s.log(r, route, msg.MessageID, http.StatusOK)
}

// serverChecks are the checks that need the server's state: topic and
// recipient known.
func (s *Server) serverChecks(msg *conneqt.Message) []conneqt.Problem {
	var ps []conneqt.Problem
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg.Topic != "" && !slices.Contains(s.topics, msg.Topic) {
		ps = append(ps, conneqt.Problem{Name: "topic", Reason: "Unknown topic: use one from GET /api/v1/topics", Value: msg.Topic})
	}
	if s.opts.Recipients != nil && msg.Recipient.ID.Value != "" && !slices.Contains(s.opts.Recipients, msg.Recipient.ID.Value) &&
		!slices.Contains([]string{"UNK", "gpconnect"}, msg.Recipient.ID.Value) {
		ps = append(ps, conneqt.Problem{Name: "recipient", Reason: "Unknown Recipient"})
	}
	return ps
}

// store records a new message; s.mu is held.
func (s *Server) store(route *conneqt.Route, msg *conneqt.Message, ds []AttachmentDigest, digest string, size int64) *record {
	now := s.opts.Now()
	ep := strings.Replace(statusPath(route), "{id}", msg.MessageID, 1)
	rec := &record{
		acc: Accepted{Route: route.Name, Message: msg, Received: now, Endpoint: ep, Digest: digest, Bytes: size,
			Attachments: ds, BodiesKept: s.keep(msg, ds)},
		route: route,
		status: MessageStatus{MessageID: msg.MessageID, Type: route.MessageType, Status: StatePending,
			LastUpdated: now},
	}
	if msg.ExpiryDateTime != "" {
		if t, err := time.Parse(time.RFC3339, msg.ExpiryDateTime); err == nil {
			rec.expiry = t
		}
	} else if route.Name == conneqt.Standard {
		rec.expiry = now.Add(s.opts.DefaultExpiry)
	}
	rec.status.Expiry = rec.expiry
	s.messages[msg.MessageID] = rec
	s.order = append(s.order, msg.MessageID)
	s.stats.Accepted++
	s.stats.BytesAccepted += size
	return rec
}

// inject answers with a fault.
func (s *Server) inject(w http.ResponseWriter, f Fault, afterStore bool) {
	s.count(func(st *Stats) {
		st.Faults++
		if afterStore {
			st.LostResponses++
		}
		if f.Drop {
			st.Dropped++
			st.ByStatus["dropped"]++
		} else {
			st.ByStatus[strconv.Itoa(f.Status)]++
		}
	})
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // HTTP/2 or a wrapped writer: abort the stream
	}
	switch f.Status {
	case http.StatusServiceUnavailable:
		writeProblem(w, problem(f.Status, UnavailableProblemType, "Service Unavailable",
			"Internal issues encountered communicating with the MESH service"), f.RetryAfter)
	default:
		writeProblem(w, problem(f.Status, InternalProblemType, http.StatusText(f.Status),
			"An internal server error prevented the request from being processed"), f.RetryAfter)
	}
}

func (s *Server) count(fn func(*Stats)) {
	s.mu.Lock()
	fn(&s.stats)
	s.mu.Unlock()
}

func (s *Server) log(r *http.Request, route *conneqt.Route, id string, status int) {
	s.opts.Logger.LogAttrs(r.Context(), slog.LevelInfo, "sim: message",
		slog.String("route", string(route.Name)), slog.String("messageId", id), slog.Int("status", status))
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[string]int64, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Accepted returns the stored messages in the order they were accepted.
// The messages are shared: do not modify them.
func (s *Server) Accepted() []Accepted {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Accepted, len(s.order))
	for i, id := range s.order {
		out[i] = s.messages[id].acc
	}
	return out
}

// Message returns the stored message with messageId id.
func (s *Server) Message(id string) (Accepted, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.messages[id]
	if !ok {
		return Accepted{}, false
	}
	return rec.acc, true
}

// messageDigest identifies a message's content for idempotency: the SHA-256
// of its envelope (canonical JSON without attachment content) followed by
// the SHA-256 of each attachment's decoded bytes (from ds, the digests of
// msg's attachments). Two requests with the same messageId and digest are
// the same message, however their JSON was laid out; hashing the decoded
// bytes spares re-encoding them.
func messageDigest(msg *conneqt.Message, ds []AttachmentDigest) string {
	envelope := *msg
	envelope.Attachments = make([]*conneqt.Attachment, len(msg.Attachments))
	h := sha256.New()
	for i, a := range msg.Attachments {
		if a == nil {
			continue
		}
		c := *a
		c.Data = nil
		envelope.Attachments[i] = &c
		sum, _ := hex.DecodeString(ds[i].SHA256)
		h.Write(sum)
	}
	canon, _ := json.Marshal(&envelope)
	env := sha256.Sum256(canon)
	return hex.EncodeToString(env[:]) + hex.EncodeToString(h.Sum(nil))
}
