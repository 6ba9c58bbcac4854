package backfill

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/transport"
)

// testLine is a small standard-route manifest line with inline content.
func testLine(i int, text string) string {
	content := base64.StdEncoding.EncodeToString([]byte(text))
	return fmt.Sprintf(`{"route":"standard","sourceId":"src-%d","topic":"Health","recipient":{"id":{"value":"G00001","type":"OcsClientIdentifier"}},"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber"}},"body":{"mimeType":"text/plain","content":"note %d"},"attachments":[{"fileName":"note.txt","mimeType":"text/plain","content":%q}]}`, i, i, content)
}

func testManifest(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(testLine(i, fmt.Sprintf("document %d", i)))
		b.WriteByte('\n')
	}
	return b.String()
}

type bytesPayload []byte

func (p bytesPayload) Size() int64          { return int64(len(p)) }
func (p bytesPayload) NewReader() io.Reader { return bytes.NewReader(p) }

// assemble is a stand-in for the assemble stage: the payload is the message JSON.
var assemble = pipeline.MessageFunc("assemble", func(_ context.Context, d *pipeline.Document) error {
	b, err := json.Marshal(d.Message)
	d.Payload = bytesPayload(b)
	return err
})

// fakeService is an in-process stand-in for the send stage: it records every
// messageId it is given and can fail or block chosen ones.
type fakeService struct {
	mu       sync.Mutex
	received map[string]int // messageId -> times received
	bodies   map[string]string
	fail     map[string]error // by sourceId
	block    chan struct{}    // if set, sends wait for it (or ctx)
	started  chan string      // if set, told the sourceId of each send started
}

func newFake() *fakeService {
	return &fakeService{received: map[string]int{}, bodies: map[string]string{}, fail: map[string]error{}}
}

func (f *fakeService) Name() string { return SendStage }

func (f *fakeService) ProcessMessage(ctx context.Context, d *pipeline.Document) error {
	if f.started != nil {
		f.started <- d.SourceID
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail[d.SourceID]; err != nil {
		return err
	}
	body, _ := io.ReadAll(d.Payload.NewReader())
	f.received[d.Message.MessageID]++
	f.bodies[d.Message.MessageID] = string(body)
	d.StatusEndpoint = "https://sim.test/api/v1/messages/" + d.Message.MessageID + "/status"
	return nil
}

func (f *fakeService) count(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received[id]
}

var (
	errNetwork  = &transport.NetworkError{Method: "POST", Path: "/api/v1/messages", Err: errors.New("connection reset")}
	errAuth     = &transport.APIError{Method: "POST", Path: "/api/v1/messages", Status: 401}
	errVirus    = &transport.APIError{Method: "POST", Path: "/api/v1/messages", Status: 406}
	errConflict = &transport.APIError{Method: "POST", Path: "/api/v1/messages", Status: 409}
)

func testPipeline(f *fakeService) pipeline.Pipeline {
	return pipeline.Pipeline{assemble, f}
}

// store is a ledger that lives across runs: each open is a new run over the
// same entries, as reopening a ledger file is.
type store struct{ m *ledger.Memory }

func (s *store) open() *ledger.Memory {
	if s.m == nil {
		s.m = ledger.NewMemory()
	} else {
		s.m = s.m.NewRun()
	}
	return s.m
}

func readReport(t *testing.T, b []byte) []Result {
	t.Helper()
	var out []Result
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestRunSendsOnceAndSkipsOnReRun(t *testing.T) {
	const n = 50
	var db store
	fake := newFake()
	text := testManifest(n)
	var report bytes.Buffer
	l := db.open()
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake),
		Ledger: l, Concurrency: 8, Report: &report})
	if err != nil {
		t.Fatal(err)
	}
	if s.Sent != n || !s.OK() || s.Bytes == 0 {
		t.Fatalf("summary %+v", s)
	}
	results := readReport(t, report.Bytes())
	if len(results) != n {
		t.Fatalf("%d report lines, want %d", len(results), n)
	}
	for _, r := range results {
		if r.Outcome != OutcomeSent || r.Attempts != 1 || r.StatusEndpoint == "" || r.MessageID != manifest.DeriveMessageID(r.SourceID) {
			t.Fatalf("result %+v", r)
		}
	}
	l.Close()

	// Second run: nothing is sent again.
	l = db.open()
	s, err = Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake), Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	if s.Skipped != n || s.Sent != 0 || !s.OK() {
		t.Fatalf("re-run summary %+v", s)
	}
	for i := range n {
		if c := fake.count(manifest.DeriveMessageID(fmt.Sprintf("src-%d", i))); c != 1 {
			t.Fatalf("src-%d received %d times", i, c)
		}
	}
	st, _ := l.Stats(context.Background())
	if st[ledger.Sent] != n {
		t.Fatalf("ledger stats %v", st)
	}
}

func TestRunOutcomes(t *testing.T) {
	invalidStage := pipeline.MessageFunc("validate", func(_ context.Context, d *pipeline.Document) error {
		if d.SourceID == "src-1" {
			return conneqt.NewValidationError([]conneqt.Problem{{Name: "subject.id.value", Reason: "fails the Modulus 11 check"}})
		}
		return nil
	})
	tests := []struct {
		source string
		err    error
		want   Outcome
		rerun  Outcome // after the failure is cleared
	}{
		{"src-0", nil, OutcomeSent, OutcomeSkipped},
		{"src-1", nil, OutcomeInvalid, OutcomeSkipped},
		{"src-2", errNetwork, OutcomeFailedRetryable, OutcomeSent},
		{"src-3", errAuth, OutcomeFailedPermanent, OutcomeSent},
		{"src-4", errVirus, OutcomeRejectedContent, OutcomeSkipped},
		{"src-5", errors.New("disk on fire"), OutcomeFailedPermanent, OutcomeSent},
	}
	text := testManifest(len(tests)) + "{not json\n"
	var db store
	fake := newFake()
	for _, tt := range tests {
		fake.fail[tt.source] = tt.err
	}
	p := pipeline.Pipeline{invalidStage, assemble, fake}
	run := func() map[string]Result {
		l := db.open()
		defer l.Close()
		var report bytes.Buffer
		s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: p, Ledger: l, Report: &report})
		if err != nil {
			t.Fatal(err)
		}
		if s.OK() {
			t.Fatalf("summary OK with failures: %+v", s)
		}
		got := map[string]Result{}
		for _, r := range readReport(t, report.Bytes()) {
			got[r.SourceID] = r
		}
		if bad := got[""]; bad.Outcome != OutcomeInvalid || bad.Line != len(tests)+1 || bad.Error == "" {
			t.Fatalf("malformed line: %+v", bad)
		}
		return got
	}
	got := run()
	for _, tt := range tests {
		if r := got[tt.source]; r.Outcome != tt.want {
			t.Errorf("%s: %s, want %s (%+v)", tt.source, r.Outcome, tt.want, r)
		}
	}
	if r := got["src-1"]; len(r.Problems) != 1 || r.Attempts != 0 {
		t.Errorf("invalid result %+v", r)
	}
	l := db.open()
	e, err := l.Get(context.Background(), manifest.DeriveMessageID("src-2"))
	if err != nil || e.State != ledger.FailedRetryable || !json.Valid(e.Problem) || e.Attempts != 1 {
		t.Fatalf("ledger entry %+v %v", e, err)
	}
	l.Close()

	fake.mu.Lock()
	clear(fake.fail)
	fake.mu.Unlock()
	got = run()
	for _, tt := range tests {
		if r := got[tt.source]; r.Outcome != tt.rerun {
			t.Errorf("re-run %s: %s, want %s (%+v)", tt.source, r.Outcome, tt.rerun, r)
		}
	}
	if r := got["src-2"]; r.Attempts != 2 {
		t.Errorf("retried message attempts %d, want 2", r.Attempts)
	}
}

func TestRunChangedLines(t *testing.T) {
	var db store
	fake := newFake()
	fake.fail["src-1"] = errNetwork
	first := testLine(0, "a") + "\n" + testLine(1, "b") + "\n"
	changed := testLine(0, "a, corrected") + "\n" + testLine(1, "b, corrected") + "\n"
	for i, text := range []string{first, changed} {
		l := db.open()
		var report bytes.Buffer
		if _, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake),
			Ledger: l, Report: &report, RetryInvalid: true}); err != nil {
			t.Fatal(err)
		}
		l.Close()
		if i == 0 {
			continue
		}
		// Both ids may hold the old content at the service: neither is sent.
		for _, r := range readReport(t, report.Bytes()) {
			if r.Outcome != OutcomeConflict || r.Reason == "" {
				t.Fatalf("changed line: %+v", r)
			}
		}
	}
	id := manifest.DeriveMessageID("src-0")
	if !strings.Contains(fake.bodies[id], base64.StdEncoding.EncodeToString([]byte("a"))) || fake.count(id) != 1 {
		t.Fatalf("the service holds %q (%d)", fake.bodies[id], fake.count(id))
	}
}

func TestRunDuplicateLines(t *testing.T) {
	fake := newFake()
	text := testLine(7, "x") + "\n" + testLine(7, "x") + "\n" + testLine(7, "y") + "\n"
	l := (&store{}).open()
	var report bytes.Buffer
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake), Ledger: l, Report: &report})
	if err != nil {
		t.Fatal(err)
	}
	// The same line again is a duplicate; a different line under the same
	// messageId is a conflict (break 3 of issue 13: it was counted as a
	// skipped duplicate and the run exited 0).
	if s.Sent != 1 || s.ByOutcome[OutcomeDuplicate] != 1 || s.ByOutcome[OutcomeConflict] != 1 || s.OK() ||
		fake.count(manifest.DeriveMessageID("src-7")) != 1 {
		t.Fatalf("summary %+v", s)
	}
	for _, r := range readReport(t, report.Bytes()) {
		if r.Line == 3 && (r.Outcome != OutcomeConflict || !strings.Contains(r.Reason, "line 1")) {
			t.Fatalf("line 3: %+v", r)
		}
	}
}

// TestRunGracefulStop closes Stop part-way: sends in flight finish, no new
// line is taken, and a re-run sends the rest, each message once.
func TestRunGracefulStop(t *testing.T) {
	const n = 40
	var db store
	text := testManifest(n)
	fake := newFake()
	fake.block = make(chan struct{})
	fake.started = make(chan string, n)
	stop := make(chan struct{})
	l := db.open()
	type ret struct {
		s   Summary
		err error
	}
	out := make(chan ret)
	go func() {
		s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake),
			Ledger: l, Concurrency: 4, Stop: stop})
		out <- ret{s, err}
	}()
	for range 4 { // four sends in flight
		<-fake.started
	}
	close(stop)
	close(fake.block)
	r := <-out
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.s.Interrupted || r.s.Sent < 4 || r.s.Sent >= n || r.s.Failed != 0 || r.s.Abandoned != 0 {
		t.Fatalf("summary %+v", r.s)
	}
	st, _ := l.Stats(context.Background())
	if st[ledger.Sending] != 0 || st[ledger.Sent] != int(r.s.Sent) {
		t.Fatalf("ledger after graceful stop: %v", st)
	}
	l.Close()

	fake.started = nil
	l = db.open()
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake), Ledger: l})
	if err != nil || !s.OK() || s.Sent+s.Skipped != n {
		t.Fatalf("re-run %+v %v", s, err)
	}
	for i := range n {
		if c := fake.count(manifest.DeriveMessageID(fmt.Sprintf("src-%d", i))); c != 1 {
			t.Fatalf("src-%d received %d times", i, c)
		}
	}
}

// TestRunForcedStop cancels the context while sends are in flight: they are
// abandoned, the ledger says sending, and a re-run sends them again with the
// same messageId.
func TestRunForcedStop(t *testing.T) {
	const n = 10
	var db store
	text := testManifest(n)
	fake := newFake()
	fake.block = make(chan struct{})
	fake.started = make(chan string, n)
	ctx, cancel := context.WithCancel(context.Background())
	l := db.open()
	done := make(chan error)
	var s Summary
	go func() {
		var err error
		s, err = Run(ctx, Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake), Ledger: l, Concurrency: 3})
		done <- err
	}()
	inFlight := []string{<-fake.started, <-fake.started, <-fake.started}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if !s.Interrupted || s.Abandoned < 3 || s.Sent != 0 || s.OK() {
		t.Fatalf("summary %+v", s)
	}
	for _, src := range inFlight {
		e, err := l.Get(context.Background(), manifest.DeriveMessageID(src))
		if err != nil || e.State != ledger.Sending || e.Attempts != 1 {
			t.Fatalf("%s: %+v %v", src, e, err)
		}
	}
	l.Close()

	close(fake.block)
	fake.started = nil
	l = db.open()
	var report bytes.Buffer
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: testPipeline(fake), Ledger: l, Report: &report})
	if err != nil || !s.OK() || s.Sent != n || s.Resent != 3 {
		t.Fatalf("re-run %+v %v", s, err)
	}
	for _, r := range readReport(t, report.Bytes()) {
		want := 1
		for _, src := range inFlight {
			if src == r.SourceID {
				want = 2
			}
		}
		if r.Attempts != want {
			t.Errorf("%s: %d attempts, want %d", r.SourceID, r.Attempts, want)
		}
	}
}

type brokenLedger struct{ ledger.Ledger }

func (brokenLedger) MarkSending(context.Context, string, string) (int, error) {
	return 0, errors.New("disk I/O error")
}

func TestRunLedgerFailureStops(t *testing.T) {
	l := (&store{}).open()
	fake := newFake()
	_, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(20)), Pipeline: testPipeline(fake),
		Ledger: brokenLedger{l}, Concurrency: 1})
	if !errors.Is(err, ErrLedger) {
		t.Fatalf("Run = %v, want ErrLedger", err)
	}
	if len(fake.received) != 0 {
		t.Fatalf("sent %d messages without a ledger", len(fake.received))
	}
}

func TestRunSetUpErrors(t *testing.T) {
	l := (&store{}).open()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no manifest", Config{Pipeline: pipeline.Pipeline{assemble}}},
		{"ledger without send", Config{Manifest: strings.NewReader(""), Pipeline: pipeline.Pipeline{assemble}, Ledger: l}},
		{"duplicate stage", Config{Manifest: strings.NewReader(""), Pipeline: pipeline.Pipeline{assemble, assemble}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestRunDryRunNoLedger(t *testing.T) {
	var written sync.Map
	write := pipeline.MessageFunc("write", func(_ context.Context, d *pipeline.Document) error {
		written.Store(d.Message.MessageID, true)
		return nil
	})
	var log bytes.Buffer
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(5)), DryRun: true, Rate: 1000,
		Pipeline: pipeline.Pipeline{assemble, write}, Progress: NewLogProgress(&log, time.Hour, true), Total: 5})
	if err != nil || s.Sent != 5 || s.ByOutcome[OutcomePrepared] != 5 {
		t.Fatalf("%+v %v", s, err)
	}
	var last progressLine
	if err := json.Unmarshal(bytes.TrimSpace(log.Bytes()), &last); err != nil || last.Event != "finished" || last.Done != 5 {
		t.Fatalf("progress %q: %v", log.String(), err)
	}
	var table bytes.Buffer
	s.WriteTable(&table)
	if !strings.Contains(table.String(), "prepared") {
		t.Fatalf("table:\n%s", table.String())
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want ledger.State
	}{
		{nil, ledger.Sent},
		{conneqt.NewValidationError([]conneqt.Problem{{Name: "x", Reason: "y"}}), ledger.Invalid},
		{&pipeline.StageError{Stage: "send", Err: errNetwork}, ledger.FailedRetryable},
		{fmt.Errorf("wrapped: %w", errAuth), ledger.FailedPermanent},
		{errVirus, ledger.RejectedContent},
		{errors.New("boom"), ledger.FailedPermanent},
		{errConflict, ledger.FailedPermanent},
		{&transport.APIError{Status: 400, Problem: &conneqt.ProblemDetails{Status: 400}}, ledger.Invalid},
	}
	for _, tt := range tests {
		if got := conneqt.Classify(tt.err); got != tt.want {
			t.Errorf("conneqt.Classify(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestCountLines(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		text string
		max  int64
		want int64
	}{
		{"", 100, 0},
		{"a\nb\n", 100, 2},
		{"a\nb", 100, 2},
		{"a\nb\n", 2, -1},
	}
	for i, tt := range tests {
		p := filepath.Join(dir, fmt.Sprint(i))
		writeFile(t, p, tt.text)
		if n, err := CountLines(p, tt.max); err != nil || n != tt.want {
			t.Errorf("%q: %d %v, want %d", tt.text, n, err, tt.want)
		}
	}
}

// TestRunBlockedContent: an attachment the service refused (406) is never
// sent again, even in another message.
func TestRunBlockedContent(t *testing.T) {
	var db store
	fake := newFake()
	sum := sha256.Sum256([]byte("EICAR-ish"))
	fake.fail["src-0"] = &send.RejectedError{MessageID: manifest.DeriveMessageID("src-0"),
		AttachmentSHA256: []string{hex.EncodeToString(sum[:])}, Err: errVirus}
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testLine(0, "EICAR-ish") + "\n"),
		Pipeline: testPipeline(fake), Ledger: db.open()})
	if err != nil || s.ByOutcome[OutcomeRejectedContent] != 1 {
		t.Fatalf("first run %+v %v", s, err)
	}
	var report bytes.Buffer
	s, err = Run(context.Background(), Config{Manifest: strings.NewReader(testLine(1, "EICAR-ish") + "\n" + testLine(2, "clean") + "\n"),
		Pipeline: testPipeline(fake), Ledger: db.open(), Report: &report})
	if err != nil || s.ByOutcome[OutcomeRejectedContent] != 1 || s.Sent != 1 {
		t.Fatalf("second run %+v %v", s, err)
	}
	if fake.count(manifest.DeriveMessageID("src-1")) != 0 {
		t.Fatal("refused content was sent again")
	}
	for _, r := range readReport(t, report.Bytes()) {
		if r.SourceID == "src-1" && (r.Attempts != 0 || !strings.Contains(r.Error, "never sent again")) {
			t.Fatalf("blocked message: %+v", r)
		}
	}
}
