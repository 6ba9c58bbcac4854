package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

// TestRunCircuitBreaker: a run stops after N consecutive authentication or
// connection failures and leaves the lines it did not send untouched
// (pending or unclaimed), so that a re-run sends them; other failures in
// between reset the count.
func TestRunCircuitBreaker(t *testing.T) {
	const n = 20
	tests := []struct {
		name      string
		limit     int
		fail      func(i int) error
		wantTrip  bool
		wantTried int // messages that reached the send stage
	}{
		{"wrong key", 0, func(int) error { return errAuth }, true, DefaultMaxConsecutiveFailures},
		{"service down", 3, func(int) error { return errNetwork }, true, 3},
		{"breaker off", -1, func(int) error { return errAuth }, false, n},
		{"interleaved with other failures", 2, func(i int) error {
			if i%2 == 0 {
				return errAuth
			}
			return errConflict
		}, false, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			for i := range n {
				f.fail[testSource(i)] = tt.fail(i)
			}
			var db store
			l := db.open()
			s, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(n)), Pipeline: testPipeline(f),
				Ledger: l, Concurrency: 1, MaxConsecutiveFailures: tt.limit})
			if got := errors.Is(err, ErrTooManyFailures); got != tt.wantTrip {
				t.Fatalf("tripped %v, want %v: %v", got, tt.wantTrip, err)
			}
			if tt.wantTrip && (s.StopReason == "" || !strings.Contains(err.Error(), "in a row")) {
				t.Fatalf("no reason given: %q %v", s.StopReason, err)
			}
			tried, untouched := 0, 0
			for i := range n {
				e, err := l.Get(context.Background(), manifest.DeriveMessageID(testSource(i)))
				switch {
				case errors.Is(err, ledger.ErrNotFound):
					untouched++
				case err != nil:
					t.Fatal(err)
				case e.State == ledger.Pending && e.Attempts == 0:
					untouched++
				case e.Attempts == 1:
					tried++
				default:
					t.Fatalf("line %d: %+v", i+1, e)
				}
			}
			if tried != tt.wantTried || tried+untouched != n {
				t.Fatalf("tried %d (want %d), untouched %d", tried, tt.wantTried, untouched)
			}
			if !tt.wantTrip {
				return
			}
			// Fixed: the re-run sends every untouched line, and retries the
			// failed ones.
			clear(f.fail)
			s, err = Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(n)), Pipeline: testPipeline(f), Ledger: db.open(), Concurrency: 1})
			if err != nil || s.Sent != n {
				t.Fatalf("re-run: %+v %v", s, err)
			}
		})
	}
}

// TestRunLogsFailures: every invalid or failed message gets one log record
// with its line, sourceId, masked NHS number and first problem; the summary
// names the most frequent problems. No full NHS number is written.
func TestRunLogsFailures(t *testing.T) {
	f := newFake()
	f.fail[testSource(1)] = errVirus
	f.fail[testSource(2)] = errVirus
	lines := testManifest(3) + `{"route":"standard","sourceId":"bad","subject":{"id":{"value":"943 476 5919"}}}` + "\n" + `{"not json` + "\n"
	invalid := pipeline.MessageFunc("validate", func(_ context.Context, d *pipeline.Document) error {
		if d.SourceID == "bad" {
			return &conneqt.ValidationError{Problems: []conneqt.Problem{{Name: "subject.id.value", Reason: "not a valid NHS number", Value: "9434765918"}}}
		}
		return nil
	})
	var logs bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, nil))
	s, err := Run(context.Background(), Config{Manifest: strings.NewReader(lines), Pipeline: pipeline.Pipeline{invalid, assemble, f},
		Ledger: ledger.NewMemory(), Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if got := strings.Count(out, "\n"); got != 4 {
		t.Fatalf("%d log records, want 4:\n%s", got, out)
	}
	for _, want := range []string{`"line":2`, `"sourceId":"src-1"`, `"nhsNumber":"943***5919"`, `"line":4`, `"problem":"subject.id.value: not a valid NHS number (got \"943***5918\")"`, `"line":5`, `"outcome":"rejected-content"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, full := range []string{"9434765919", "943 476 5919", "9434765918"} {
		if strings.Contains(out, full) {
			t.Errorf("log holds the full NHS number %s", full)
		}
	}
	if len(s.TopProblems) == 0 || s.TopProblems[0].Count != 2 || strings.Contains(s.TopProblems[0].Problem, "messageId") {
		t.Fatalf("top problems %+v", s.TopProblems)
	}
}

// TestReportOrder: results are written in intake order whatever order they
// finish in, and past the window the held results are written rather than
// kept.
func TestReportOrder(t *testing.T) {
	tests := []struct {
		name   string
		finish []int
		want   []int // lines written after each step is irrelevant: the final order
	}{
		{"in order", []int{0, 1, 2, 3}, []int{0, 1, 2, 3}},
		{"reversed", []int{3, 2, 1, 0}, []int{0, 1, 2, 3}},
		{"shuffled", []int{2, 0, 3, 1, 4}, []int{0, 1, 2, 3, 4}},
		{"gap left at the end", []int{1, 3, 2}, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			o := newReportOrder(&buf)
			for _, seq := range tt.finish {
				if err := o.done(Result{Line: seq + 1, seq: seq}); err != nil {
					t.Fatal(err)
				}
			}
			if err := o.flush(); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, r := range readReport(t, buf.Bytes()) {
				got = append(got, r.Line-1)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("order %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("window", func(t *testing.T) {
		var buf bytes.Buffer
		o := newReportOrder(&buf)
		for seq := 1; seq <= ReportWindow+1; seq++ {
			o.done(Result{Line: seq + 1, seq: seq})
		}
		if len(o.held) != 0 || buf.Len() == 0 {
			t.Fatalf("held %d results past the window", len(o.held))
		}
		o.done(Result{Line: 1, seq: 0})
		o.done(Result{Line: ReportWindow + 3, seq: ReportWindow + 2})
		rs := readReport(t, buf.Bytes())
		if len(rs) != ReportWindow+3 || rs[len(rs)-1].Line != ReportWindow+3 || len(o.early) != 0 {
			t.Fatalf("%d lines, last %+v, early %d", len(rs), rs[len(rs)-1], len(o.early))
		}
	})
}

// TestRunReportAppends: two runs appending to one report each write their
// lines in manifest order under their own run id, and a line skipped as
// invalid before keeps its problems.
func TestRunReportAppends(t *testing.T) {
	lines := testManifest(6) + `{"route":"standard","sourceId":"bad"}` + "\n"
	invalid := pipeline.MessageFunc("validate", func(_ context.Context, d *pipeline.Document) error {
		if d.SourceID == "bad" {
			return &conneqt.ValidationError{Problems: []conneqt.Problem{{Name: "recipient.id.value", Reason: "required"}}}
		}
		return nil
	})
	var db store
	var rep bytes.Buffer
	for range 2 {
		if _, err := Run(context.Background(), Config{Manifest: strings.NewReader(lines), Pipeline: pipeline.Pipeline{invalid, assemble, newFake()},
			Ledger: db.open(), Report: &rep, Concurrency: 4}); err != nil {
			t.Fatal(err)
		}
	}
	rs := readReport(t, rep.Bytes())
	if len(rs) != 14 {
		t.Fatalf("%d report lines", len(rs))
	}
	runs := map[string]bool{}
	for i, r := range rs {
		runs[r.RunID] = true
		if r.Line != i%7+1 || r.RunID == "" || r.Time.IsZero() {
			t.Fatalf("report line %d: %+v", i, r)
		}
	}
	last := rs[13]
	if len(runs) != 2 || last.Outcome != OutcomeSkipped || len(last.Problems) != 1 || last.Problems[0].Name != "recipient.id.value" {
		t.Fatalf("runs %v, skipped invalid line %+v", runs, last)
	}
}

// TestRunDocuments: documents built in code go through the same
// exactly-once machinery as manifest lines: a second run skips them, and a
// changed document under the same sourceId is a conflict.
func TestRunDocuments(t *testing.T) {
	build := func(text string) []*pipeline.Document {
		var docs []*pipeline.Document
		for i := range 3 {
			doc, err := manifest.NewDocument(conneqt.Standard, testSource(i), &conneqt.Message{Topic: "Health",
				Recipient:   conneqt.Party{ID: conneqt.Identifier{Value: "G00001"}},
				Subject:     conneqt.Party{ID: conneqt.Identifier{Value: "9434765919", Type: "VerifiedNhsNumber"}},
				Body:        &conneqt.Body{MIMEType: "text/plain", Content: text},
				Attachments: []*conneqt.Attachment{{FileName: "note.txt", MIMEType: "text/plain", Data: []byte(text)}}})
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, doc)
		}
		return docs
	}
	seq := func(docs []*pipeline.Document) func(func(*pipeline.Document) bool) {
		return func(yield func(*pipeline.Document) bool) {
			for _, d := range docs {
				if !yield(d) {
					return
				}
			}
		}
	}
	f := newFake()
	var db store
	docs := build("note")
	if docs[0].Message.Type == "" || docs[0].Message.MessageID != manifest.DeriveMessageID(testSource(0)) || docs[0].Message.Recipient.ID.Type == "" {
		t.Fatalf("NewDocument left %+v", docs[0].Message)
	}
	for run, want := range []struct{ sent, skipped, failed int64 }{{3, 0, 0}, {0, 3, 0}} {
		s, err := Run(context.Background(), Config{Documents: seq(build("note")), Pipeline: testPipeline(f), Ledger: db.open()})
		if err != nil || s.Sent != want.sent || s.Skipped != want.skipped {
			t.Fatalf("run %d: %+v %v", run+1, s, err)
		}
	}
	s, err := Run(context.Background(), Config{Documents: seq(build("changed")), Pipeline: testPipeline(f), Ledger: db.open()})
	if err != nil || s.ByOutcome[OutcomeConflict] != 3 {
		t.Fatalf("changed: %+v %v", s, err)
	}
	if f.count(docs[0].Message.MessageID) != 1 {
		t.Fatal("sent more than once")
	}
	if _, err := Run(context.Background(), Config{Documents: seq(nil), Manifest: strings.NewReader(""), Pipeline: testPipeline(f)}); err == nil {
		t.Fatal("both a manifest and documents accepted")
	}
}

func TestFirstProblem(t *testing.T) {
	const id = "c66abb34-c2ff-5a52-821b-e1581124146d" // ten digits in a row in its last group
	tests := []struct {
		name string
		res  Result
		want string
	}{
		{"problem, value masked", Result{Problems: []conneqt.Problem{{Name: "subject.id.value", Reason: "bad", Value: "943 476 5918"}}}, `subject.id.value: bad (got "943***5918")`},
		{"ids stripped, uuid kept whole", Result{SourceID: "s-1", MessageID: id,
			Error: "s-1: send: messageId " + id + ": transport: POST /api/v1/messages (messageId " + id + "): 401 Unauthorized"},
			"send: transport: POST /api/v1/messages: 401 Unauthorized"},
		{"other uuid kept", Result{Error: "see " + id + " for patient 9434765919\nmore"}, "see " + id + " for patient 943***5919"},
		{"reason", Result{Reason: "already sent with different content"}, "already sent with different content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstProblem(tt.res); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzRedact: masking keeps every UUID whole, leaves nothing written like
// an NHS number outside them, and is idempotent.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"", "patient 943 476 5919", "c66abb34-c2ff-5a52-821b-e1581124146d 9434765919", "12345678901", "943-476-5919x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := redactText(s)
		if redactText(got) != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, redactText(got))
		}
		if a, b := uuids.FindAllString(s, -1), uuids.FindAllString(got, -1); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("UUIDs changed: %v -> %v", a, b)
		}
		rest := uuids.ReplaceAllString(got, " ")
		if nhsnumber.Redact(rest) != rest {
			t.Fatalf("%q left an NHS number in %q", s, got)
		}
	})
}

// TestRunDebugLines: at Debug level every line that did not fail is logged
// too, with the messageId it got; at Info level it is not.
func TestRunDebugLines(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var logs bytes.Buffer
		lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
		if _, err := Run(context.Background(), Config{Manifest: strings.NewReader(testManifest(2)), Pipeline: testPipeline(newFake()),
			Ledger: ledger.NewMemory(), Logger: lg}); err != nil {
			t.Fatal(err)
		}
		got := strings.Count(logs.String(), `msg="message sent"`)
		want := map[slog.Level]int{slog.LevelInfo: 0, slog.LevelDebug: 2}[level]
		if got != want || want > 0 && !strings.Contains(logs.String(), "messageId="+manifest.DeriveMessageID(testSource(1))) {
			t.Fatalf("%v: %d records, want %d:\n%s", level, got, want, logs.String())
		}
	}
}
