package backfill

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	assemblestage "github.com/gpdoc/gpdoc/stages/assemble"
	"github.com/gpdoc/gpdoc/stages/send"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// stamp stands in for a stage that writes "now" into the message, as the
// render stage writes the report's dates: from the document's reference
// time, or (clock) from a value that changes on every run.
func stamp(clock func() time.Time) pipeline.MessageStage {
	return pipeline.MessageFunc("stamp", func(_ context.Context, d *pipeline.Document) error {
		now := d.ReferenceTime
		if clock != nil {
			now = clock()
		}
		d.Message.Body.Content += " (prepared " + now.UTC().Format(time.RFC3339Nano) + ")"
		return nil
	})
}

func simClient(t *testing.T, srv *conneqttest.Server) *transport.Client {
	t.Helper()
	c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: srv.APIKey(), MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Break 1 of issue 13: a resend after a lost answer must be the same
// message. With the reference time from the ledger it is: the service
// de-duplicates it. With bytes that change between runs (a clock), the
// resend is never sent: a conflict naming both payload hashes, and the
// message stays resendable (not failed-permanent).
func TestResendIsByteIdentical(t *testing.T) {
	var tick atomic.Int64
	clock := func() time.Time { return time.Unix(1_800_000_000+tick.Add(1), 0) }
	tests := []struct {
		name  string
		clock func() time.Time
	}{
		{"reference time", nil},
		{"clock", clock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := conneqttest.NewServer(conneqttest.Options{})
			defer srv.Close()
			p := pipeline.Pipeline{stamp(tt.clock), assemblestage.NewStage(), send.New(simClient(t, srv))}
			text := testManifest(1)
			id := manifest.DeriveMessageID(testSource(0))
			var db store

			// The service stores the message; its answer is lost.
			srv.Script(conneqttest.Fault{Status: http.StatusInternalServerError, AfterStore: true})
			s, err := Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: p, Ledger: db.open()})
			if err != nil || s.ByOutcome[OutcomeFailedRetryable] != 1 {
				t.Fatalf("first run: %+v %v", s, err)
			}
			first, _ := db.m.Get(context.Background(), id)

			var report strings.Builder
			s, err = Run(context.Background(), Config{Manifest: strings.NewReader(text), Pipeline: p, Ledger: db.open(), Report: &report})
			if err != nil {
				t.Fatal(err)
			}
			e, _ := db.m.Get(context.Background(), id)
			st := srv.Stats()
			if tt.clock == nil {
				if !s.OK() || s.Sent != 1 || st.Accepted != 1 || st.Duplicates != 1 || st.Conflicts != 0 || e.State != ledger.Sent {
					t.Fatalf("resend: summary %+v, simulator %+v, entry %+v", s, st, e)
				}
				return
			}
			rs := readReport(t, []byte(report.String()))
			if len(rs) != 1 || rs[0].Outcome != OutcomeConflict || rs[0].PayloadSHA256 == "" ||
				!strings.Contains(rs[0].Reason, ledger.ShortHash(first.PayloadSHA256)) ||
				!strings.Contains(rs[0].Reason, ledger.ShortHash(rs[0].PayloadSHA256)) {
				t.Fatalf("changed resend: %+v", rs)
			}
			if st.Messages != 1 || st.Conflicts != 0 {
				t.Fatalf("a changed payload went out under the same id: simulator %+v", st)
			}
			if e.State != ledger.FailedRetryable || e.PayloadSHA256 != first.PayloadSHA256 || e.Attempts != 1 {
				t.Fatalf("entry after the refused resend: %+v (first %+v)", e, first)
			}
		})
	}
}

// Break 3 (two lines, one messageId, different content) is
// TestRunDuplicateLines; break 2 (two runs on one ledger) is the sqlite
// package's TestRunLock and cmd/gpdoc's TestBackfillExactlyOnce.

// Break 4 of issue 13: a success answer gpdoc cannot read means the
// message may have been delivered: it stays resendable (failed-retryable),
// a re-run sends the same bytes under the same id, and a changed line is
// then a conflict, never sent.
func TestUnreadableSuccessMayHaveBeenDelivered(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"200 not JSON", http.StatusOK, "<html>OK</html>"},
		{"200 no endpoint", http.StatusOK, `{"ok":true}`},
		{"202 endpoint on another host", http.StatusAccepted, `{"messageStatusEndpoint":"https://elsewhere.example/api/v1/messages/x/status"}`},
		{"303 redirect", http.StatusSeeOther, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu     sync.Mutex
				bodies []string
				ok     bool
			)
			requests := func() []string {
				mu.Lock()
				defer mu.Unlock()
				return slices.Clone(bodies)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				bodies = append(bodies, string(b))
				if ok {
					fmt.Fprint(w, `{"messageStatusEndpoint":"/api/v1/messages/m/status"}`)
					return
				}
				if tt.status >= 300 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			c, err := transport.New(transport.Options{BaseURL: srv.URL, APIKey: "k"})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			p := pipeline.Pipeline{assemblestage.NewStage(), send.New(c)}
			id := manifest.DeriveMessageID(testSource(0))
			var db store
			s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)), Pipeline: p, Ledger: db.open()})
			if err != nil || s.ByOutcome[OutcomeFailedRetryable] != 1 || len(requests()) != 1 {
				t.Fatalf("first run: %+v %v (%d requests)", s, err, len(requests()))
			}
			if e, _ := db.m.Get(context.Background(), id); e.State != ledger.FailedRetryable || !strings.Contains(string(e.Problem), "may have been delivered") {
				t.Fatalf("entry %+v problem %s", e, e.Problem)
			}
			// A fixed line under the same id is not sent.
			s, _ = Run(context.Background(), Config{Manifest: strings.NewReader(testLine(0, "fixed")), Pipeline: p, Ledger: db.open()})
			if s.ByOutcome[OutcomeConflict] != 1 || len(requests()) != 1 {
				t.Fatalf("changed line: %+v (%d requests)", s, len(requests()))
			}
			// The same line goes again, byte for byte.
			mu.Lock()
			ok = true
			mu.Unlock()
			s, err = Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)), Pipeline: p, Ledger: db.open()})
			if got := requests(); err != nil || !s.OK() || len(got) != 2 || got[0] != got[1] {
				t.Fatalf("re-run: %+v %v (%d requests)", s, err, len(got))
			}
		})
	}
}

// A 409 is a conflict for an operator, with the payload hash, and the
// message stays resendable; and a message that may have been delivered is
// never recorded failed-permanent or invalid by a later run.
func TestConflictAnswerAndNoDowngrade(t *testing.T) {
	fake := newFake()
	id := manifest.DeriveMessageID(testSource(0))
	var db store
	fake.fail[testSource(0)] = fmt.Errorf("messageId %s: %w", id, errConflict)
	var report strings.Builder
	s, _ := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)), Pipeline: testPipeline(fake), Ledger: db.open(), Report: &report})
	rs := readReport(t, []byte(report.String()))
	if s.OK() || len(rs) != 1 || rs[0].Outcome != OutcomeConflict || !strings.Contains(rs[0].Reason, "holds other content") ||
		!strings.Contains(rs[0].Reason, ledger.ShortHash(rs[0].PayloadSHA256)) {
		t.Fatalf("409: %+v", rs)
	}
	if e, _ := db.m.Get(context.Background(), id); e.State != ledger.FailedRetryable {
		t.Fatalf("409 recorded %s", e.State)
	}
	// The next run's send fails for a reason that would otherwise be
	// failed-permanent (a 401): the earlier send may have been delivered,
	// so the entry stays failed-retryable.
	fake.fail[testSource(0)] = errAuth
	Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(1)), Pipeline: testPipeline(fake), Ledger: db.open()})
	if e, _ := db.m.Get(context.Background(), id); e.State != ledger.FailedRetryable || conneqt.Classify(errAuth) != ledger.FailedPermanent {
		t.Fatalf("after a 401 on a resend: %s", e.State)
	}
}
