package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/pipeline"
)

func newDoc(nAttachments int) *pipeline.Document {
	msg := &conneqt.Message{MessageID: "5fd06ef9-8dfd-41de-af35-0d499fdac876"}
	for i := range nAttachments {
		msg.Attachments = append(msg.Attachments, &conneqt.Attachment{
			FileName: fmt.Sprintf("file%d.txt", i), MIMEType: conneqt.MIMEText, Data: []byte("hello"),
		})
	}
	return &pipeline.Document{SourceID: "doc-1", Route: conneqt.MustRoute(conneqt.Standard), Message: msg}
}

// gate is an attachment stage that measures how many calls are inside it at
// once. The first `want` callers wait until `want` of them are inside
// together, so the runner must really run that many concurrently (or the
// test's deadline fails it); later callers pass straight through.
type gate struct {
	want     int64
	inside   atomic.Int64
	max      atomic.Int64
	calls    atomic.Int64
	reached  chan struct{}
	closeOne sync.Once
}

func newGate(want int) *gate { return &gate{want: int64(want), reached: make(chan struct{})} }

func (g *gate) Name() string { return "gate" }

func (g *gate) ProcessAttachment(ctx context.Context, _ *pipeline.Document, _ int) error {
	g.calls.Add(1)
	n := g.inside.Add(1)
	defer g.inside.Add(-1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			break
		}
	}
	if n >= g.want {
		g.closeOne.Do(func() { close(g.reached) })
	}
	select {
	case <-g.reached:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestAttachmentConcurrencyIsBounded(t *testing.T) {
	for _, tc := range []struct{ attachments, limit int }{
		{10, 1}, {10, 3}, {10, 10}, {4, 8},
	} {
		t.Run(fmt.Sprintf("%d-attachments-limit-%d", tc.attachments, tc.limit), func(t *testing.T) {
			want := min(tc.limit, tc.attachments)
			g := newGate(want)
			r := &pipeline.Runner{Stages: pipeline.Pipeline{g}, AttachmentConcurrency: tc.limit}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Process(ctx, newDoc(tc.attachments)); err != nil {
				t.Fatalf("Process: %v (the runner did not reach %d concurrent attachments)", err, want)
			}
			if got := g.max.Load(); got != int64(want) {
				t.Errorf("max concurrent attachments = %d, want exactly %d", got, want)
			}
			if got := g.calls.Load(); got != int64(tc.attachments) {
				t.Errorf("stage called %d times, want %d", got, tc.attachments)
			}
		})
	}
}

// docGate is a message stage measuring concurrent documents the same way.
type docGate struct{ gate }

func (d *docGate) Name() string { return "doc-gate" }
func (d *docGate) ProcessMessage(ctx context.Context, doc *pipeline.Document) error {
	return d.ProcessAttachment(ctx, doc, 0)
}

func TestMessageConcurrencyIsBounded(t *testing.T) {
	g := &docGate{*newGate(3)}
	r := &pipeline.Runner{Stages: pipeline.Pipeline{g}, MessageConcurrency: 3}
	docs := make([]*pipeline.Document, 12)
	for i := range docs {
		docs[i] = newDoc(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var failures atomic.Int64
	err := r.Run(ctx, slices.Values(docs), func(_ *pipeline.Document, err error) {
		if err != nil {
			failures.Add(1)
		}
	})
	if err != nil || failures.Load() != 0 {
		t.Fatalf("Run: %v, %d failures", err, failures.Load())
	}
	if got := g.max.Load(); got != 3 {
		t.Errorf("max concurrent documents = %d, want 3", got)
	}
}

func TestCancelStopsRun(t *testing.T) {
	started := make(chan struct{}, 100)
	blocker := pipeline.AttachmentFunc("block", func(ctx context.Context, _ *pipeline.Document, _ int) error {
		started <- struct{}{}
		<-ctx.Done()
		return fmt.Errorf("blocked: %w", ctx.Err())
	})
	var after atomic.Int64
	next := pipeline.MessageFunc("after", func(context.Context, *pipeline.Document) error {
		after.Add(1)
		return nil
	})
	r := &pipeline.Runner{Stages: pipeline.Pipeline{blocker, next}, MessageConcurrency: 2}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()

	docs := func(yield func(*pipeline.Document) bool) {
		for range 1000 {
			if !yield(newDoc(2)) {
				return
			}
		}
	}
	var results []error
	err := r.Run(ctx, docs, func(_ *pipeline.Document, err error) { results = append(results, err) })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if len(results) == 0 || len(results) >= 1000 {
		t.Fatalf("%d documents reported; want the in-flight ones only", len(results))
	}
	for _, e := range results {
		if !errors.Is(e, context.Canceled) {
			t.Errorf("document error %v, want context.Canceled", e)
		}
	}
	if after.Load() != 0 {
		t.Errorf("a stage after the cancelled one ran %d times", after.Load())
	}
}

func TestCustomStageRunsInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	record := func(name string) pipeline.Stage {
		return pipeline.MessageFunc(name, func(context.Context, *pipeline.Document) error {
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			return nil
		})
	}
	base := pipeline.Pipeline{record("validate"), record("sanitise"), record("assemble"), record("send")}
	redact := pipeline.AttachmentFunc("redact", func(_ context.Context, doc *pipeline.Document, i int) error {
		a := doc.Message.Attachments[i]
		a.Data = []byte("[redacted]")
		mu.Lock()
		order = append(order, fmt.Sprintf("redact[%d]", i))
		mu.Unlock()
		return nil
	})
	p, err := base.InsertAfter("sanitise", redact)
	if err != nil {
		t.Fatal(err)
	}
	p = p.Without("send")
	doc := newDoc(1)
	if err := (&pipeline.Runner{Stages: p}).Process(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	want := []string{"validate", "sanitise", "redact[0]", "assemble"}
	if !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
	if string(doc.Message.Attachments[0].Data) != "[redacted]" {
		t.Errorf("custom stage's change lost")
	}
	if _, err := base.InsertAfter("nope", redact); err == nil {
		t.Error("InsertAfter an unknown stage: want an error")
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	envelope := pipeline.MessageFunc("envelope", func(context.Context, *pipeline.Document) error {
		return conneqt.NewValidationError([]conneqt.Problem{
			{Name: "subject.id.value", Reason: "not a valid NHS number"},
			{Name: "recipient.id.type", Reason: "must be OcsClientIdentifier", Value: "Ods"},
		})
	})
	attach := pipeline.AttachmentFunc("attach", func(_ context.Context, doc *pipeline.Document, i int) error {
		if i%2 == 0 {
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(i, "fileName"), Reason: "reserved name"})
		}
		return nil
	})
	var sendCalled atomic.Bool
	send := pipeline.MessageFunc("send", func(context.Context, *pipeline.Document) error { sendCalled.Store(true); return nil })
	p := pipeline.Pipeline{pipeline.CollectingProblems(envelope), pipeline.CollectingProblems(attach), send}

	err := (&pipeline.Runner{Stages: p}).Process(context.Background(), newDoc(12))
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, conneqt.ErrInvalid) {
		t.Fatalf("err = %v, want a *ValidationError matching ErrInvalid", err)
	}
	var names []string
	for _, p := range ve.Problems {
		names = append(names, p.Name)
	}
	want := []string{
		"attachments[0].fileName", "attachments[2].fileName", "attachments[4].fileName",
		"attachments[6].fileName", "attachments[8].fileName", "attachments[10].fileName",
		"recipient.id.type", "subject.id.value",
	}
	if !slices.Equal(names, want) {
		t.Errorf("problems = %v\nwant %v", names, want)
	}
	if sendCalled.Load() {
		t.Error("send ran on an invalid message")
	}
}

// A panic is recovered at the stage boundary. One that starts in a decoder
// of untrusted bytes (here package image, like a hostile file can cause) is a
// problem with that attachment's file; one that starts in gpdoc's own code
// (here the stage itself) is an internal error: a *StageError wrapping the
// *PanicError, with its value and stack kept, logged with the stack, and
// classified failed-permanent. No stack is in any error text.
func TestPanics(t *testing.T) {
	decoderPanic := func() { image.NewRGBA(image.Rect(0, 0, 1<<40, 1<<40)) } // panics inside package image
	ownPanic := func() {
		var m map[string]int
		m["x"]++ // nil map write: a bug in gpdoc's own code
	}
	tests := []struct {
		name     string
		stage    pipeline.Stage
		problem  string // the problem's reason for a decoder panic, else ""
		internal bool
		runtime  bool // the panic's value is a runtime.Error
	}{
		{name: "decoder panic in an attachment stage",
			stage: pipeline.AttachmentFunc("decode", func(_ context.Context, _ *pipeline.Document, i int) error {
				if i == 1 {
					decoderPanic()
				}
				return nil
			}),
			problem: "could not be read: the file is probably damaged (panic in image)"},
		{name: "own panic in an attachment stage",
			stage: pipeline.AttachmentFunc("decode", func(_ context.Context, _ *pipeline.Document, i int) error {
				if i == 1 {
					ownPanic()
				}
				return nil
			}),
			internal: true, runtime: true},
		{name: "decoder panic in a message stage is still an internal error",
			stage: pipeline.MessageFunc("decode", func(context.Context, *pipeline.Document) error {
				decoderPanic()
				return nil
			}),
			internal: true},
		{name: "own panic in a message stage",
			stage: pipeline.MessageFunc("decode", func(context.Context, *pipeline.Document) error {
				ownPanic()
				return nil
			}),
			internal: true, runtime: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logged bytes.Buffer
			r := &pipeline.Runner{Stages: pipeline.Pipeline{tc.stage}, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
			err := r.Process(context.Background(), newDoc(3))
			if strings.Contains(err.Error(), "goroutine") || strings.Contains(err.Error(), ".go:") {
				t.Errorf("error text holds a stack: %q", err)
			}
			if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "goroutine") {
				t.Errorf("panic not logged at error level with its stack: %q", logged.String())
			}
			var pe *pipeline.PanicError
			if !errors.As(err, &pe) && tc.internal {
				t.Fatalf("err = %v, want a *PanicError in its chain", err)
			}
			if tc.problem != "" {
				var ve *conneqt.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1].content" || ve.Problems[0].Reason != tc.problem {
					t.Fatalf("err = %v, want one problem for attachments[1].content: %q", err, tc.problem)
				}
				return
			}
			var se *pipeline.StageError
			if !errors.As(err, &se) || se.Stage != "decode" {
				t.Fatalf("err = %v, want a *StageError of stage decode", err)
			}
			if !strings.Contains(err.Error(), "internal error in stage decode: ") || !strings.HasSuffix(err.Error(), "; please report it") {
				t.Errorf("err text = %q", err)
			}
			if len(pe.Stack) == 0 || pe.Value == nil {
				t.Errorf("PanicError lost its value or stack: %+v", pe)
			}
			var re runtime.Error
			if !errors.As(err, &re) && tc.runtime {
				t.Errorf("Unwrap does not reach the runtime error: %v", err)
			}
			if got := conneqt.Classify(err); got != conneqt.FailedPermanent {
				t.Errorf("Classify = %s, want failed-permanent", got)
			}
		})
	}
}

// A null in the attachments array is a problem for its place, every other
// attachment is still checked, and nothing panics outside the stages.
func TestNullAttachment(t *testing.T) {
	doc := newDoc(3)
	doc.Message.Attachments[1] = nil
	var seen atomic.Int64
	look := pipeline.CollectingProblems(pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		seen.Add(1)
		_ = d.Message.Attachments[i].FileName
		return nil
	}))
	r := &pipeline.Runner{Stages: pipeline.Pipeline{look}, Observer: pipeline.ObserverFunc(func(pipeline.Event) {})}
	err := r.Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Name != "attachments[1]" {
		t.Fatalf("err = %v, want one problem for attachments[1]", err)
	}
	if seen.Load() != 2 {
		t.Errorf("stage ran on %d attachments, want 2", seen.Load())
	}
}

func TestFatalStageErrorIsWrapped(t *testing.T) {
	errDisk := errors.New("disk on fire")
	s := pipeline.MessageFunc("assemble", func(context.Context, *pipeline.Document) error {
		return fmt.Errorf("writing: %w", errDisk)
	})
	err := (&pipeline.Runner{Stages: pipeline.Pipeline{s}}).Process(context.Background(), newDoc(1))
	var se *pipeline.StageError
	if !errors.As(err, &se) || se.Stage != "assemble" || !errors.Is(err, errDisk) {
		t.Fatalf("err = %v, want a *StageError from assemble wrapping errDisk", err)
	}
	if errors.Is(err, conneqt.ErrInvalid) {
		t.Error("a fatal error must not match ErrInvalid")
	}
}

func TestRunnerLoadsFilesAndReportsUnreadable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(good, []byte("note"), 0o644); err != nil {
		t.Fatal(err)
	}
	doc := newDoc(0)
	doc.Folders = []string{dir}
	doc.Message.Attachments = []*conneqt.Attachment{
		{FileName: "a.txt", Path: good},
		{FileName: "b.txt", Path: filepath.Join(dir, "missing.txt")},
		{FileName: "c", Path: dir},
	}
	var seen []byte
	s := pipeline.CollectingProblems(pipeline.AttachmentFunc("look", func(_ context.Context, d *pipeline.Document, i int) error {
		if i == 0 {
			seen = d.Message.Attachments[0].Data
		}
		return nil
	}))
	err := (&pipeline.Runner{Stages: pipeline.Pipeline{s}}).Process(context.Background(), doc)
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if string(seen) != "note" {
		t.Errorf("attachment 0 data = %q", seen)
	}
	if len(ve.Problems) != 2 || ve.Problems[0].Name != "attachments[1].path" || ve.Problems[1].Name != "attachments[2].path" {
		t.Errorf("problems = %+v", ve.Problems)
	}
}

func TestBytesInFlightBudget(t *testing.T) {
	dir := t.TempDir()
	var docs []*pipeline.Document
	for i := range 6 {
		p := filepath.Join(dir, fmt.Sprintf("%d.bin", i))
		if err := os.WriteFile(p, make([]byte, 1000), 0o644); err != nil {
			t.Fatal(err)
		}
		d := newDoc(0)
		d.Folders = []string{dir}
		d.Message.Attachments = []*conneqt.Attachment{{FileName: "x.bin", Path: p}}
		docs = append(docs, d)
	}
	var inside, maxInside atomic.Int64
	s := pipeline.MessageFunc("hold", func(ctx context.Context, _ *pipeline.Document) error {
		n := inside.Add(1)
		defer inside.Add(-1)
		if n > maxInside.Load() {
			maxInside.Store(n)
		}
		time.Sleep(2 * time.Millisecond) // widen the window in which an over-budget overlap would show
		return nil
	})
	// Budget for two documents' files, six documents allowed at once.
	r := &pipeline.Runner{Stages: pipeline.Pipeline{s}, MessageConcurrency: 6, MaxBytesInFlight: 2000}
	if err := r.Run(context.Background(), slices.Values(docs), nil); err != nil {
		t.Fatal(err)
	}
	if got := maxInside.Load(); got > 2 {
		t.Errorf("%d documents held their files at once; the 2000-byte budget allows 2", got)
	}
}

func TestProblemDetailsIsRFC7807(t *testing.T) {
	err := conneqt.NewValidationError([]conneqt.Problem{
		{Name: "attachments[2].fileName", Reason: "reserved device name", Value: "CON.pdf"},
		{Name: "subject.id.value", Reason: "fails the Modulus 11 check"},
	})
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal("not a *ValidationError")
	}
	b, jerr := json.Marshal(ve.ProblemDetails("urn:uuid:123e4567-e89b-12d3-a456-426614174000"))
	if jerr != nil {
		t.Fatal(jerr)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	// RFC 7807 §3.1 members with their JSON types.
	if s, _ := got["type"].(string); s == "" || !isAbsoluteURI(s) {
		t.Errorf("type = %v, want an absolute URI", got["type"])
	}
	if _, ok := got["title"].(string); !ok {
		t.Errorf("title missing")
	}
	if s, _ := got["status"].(float64); s != 400 {
		t.Errorf("status = %v, want the number 400", got["status"])
	}
	if _, ok := got["detail"].(string); !ok {
		t.Errorf("detail missing")
	}
	if got["instance"] != "urn:uuid:123e4567-e89b-12d3-a456-426614174000" {
		t.Errorf("instance = %v", got["instance"])
	}
	params, _ := got["invalidParameters"].([]any)
	if len(params) != 2 {
		t.Fatalf("invalidParameters = %v", got["invalidParameters"])
	}
	first := params[0].(map[string]any)
	if first["name"] != "attachments[2].fileName" || first["reason"] != "reserved device name" || first["value"] != "CON.pdf" {
		t.Errorf("invalidParameters[0] = %v", first)
	}
	if _, has := params[1].(map[string]any)["value"]; has {
		t.Errorf("an absent value must be omitted, got %v", params[1])
	}
	if conneqt.ProblemContentType != "application/problem+json" {
		t.Errorf("content type %q", conneqt.ProblemContentType)
	}
}

func isAbsoluteURI(s string) bool {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && (s[i] >= '0' && s[i] <= '9' || s[i] == '+' || s[i] == '-' || s[i] == '.')) {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ':'
}

func TestFailedAttachmentSkippedAcrossStageBatches(t *testing.T) {
	// check is both a message and an attachment stage (like validate), so
	// the next attachment stage starts a new batch: the failure must carry.
	check := both{
		pipeline.MessageFunc("check", func(context.Context, *pipeline.Document) error { return nil }),
		pipeline.AttachmentFunc("check", func(_ context.Context, d *pipeline.Document, i int) error {
			if i == 1 {
				d.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(1, "content"), Reason: "corrupt"})
			}
			return nil
		}),
	}
	var mu sync.Mutex
	var fixed []int
	fix := pipeline.CollectingProblems(pipeline.AttachmentFunc("fix", func(_ context.Context, _ *pipeline.Document, i int) error {
		mu.Lock()
		fixed = append(fixed, i)
		mu.Unlock()
		return nil
	}))
	p := pipeline.Pipeline{pipeline.CollectingProblems(check), fix}
	err := (&pipeline.Runner{Stages: p}).Process(context.Background(), newDoc(3))
	if !errors.Is(err, conneqt.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	slices.Sort(fixed)
	if !slices.Equal(fixed, []int{0, 2}) {
		t.Errorf("fix ran on attachments %v; want [0 2] (not the failed one)", fixed)
	}
}

func TestInsertAttachmentRenumbersReports(t *testing.T) {
	doc := newDoc(2)
	doc.AddProblem(conneqt.Problem{Name: "attachments[1].fileName", Reason: "x"}, conneqt.Problem{Name: "subject.id.value", Reason: "y"})
	doc.AddChange(pipeline.Change{Name: "attachments[0].fileName", Action: "rename"})
	doc.AddWarning(conneqt.Problem{Name: "attachments[10]", Reason: "z"}, conneqt.Problem{Name: "attachments[1x]", Reason: "not a path"})
	doc.InsertAttachment(0, &conneqt.Attachment{FileName: "report.pdf"})

	if got := doc.Message.Attachments[0].FileName; got != "report.pdf" || len(doc.Message.Attachments) != 3 {
		t.Fatalf("attachments: %q, %d", got, len(doc.Message.Attachments))
	}
	if ps := doc.Problems(); ps[0].Name != "attachments[2].fileName" || ps[1].Name != "subject.id.value" {
		t.Errorf("problems %v", ps)
	}
	if cs := doc.Changes(); cs[0].Name != "attachments[1].fileName" {
		t.Errorf("changes %v", cs)
	}
	if ws := doc.Warnings(); ws[0].Name != "attachments[1x]" || ws[1].Name != "attachments[11]" {
		t.Errorf("warnings %v", ws)
	}
	if doc.AttachmentOK(2) || !doc.AttachmentOK(1) || !doc.AttachmentOK(0) {
		t.Error("AttachmentOK does not follow the renumbered problem")
	}
}

type both struct {
	pipeline.MessageStage
	pipeline.AttachmentStage
}

func (b both) Name() string { return b.MessageStage.Name() }

// The check phase is the leading run of ProblemCollectors: it runs whole on
// a document with problems, which then stops at its end; the count of
// attachments later stages add is told to each message stage.
func TestCheckPhase(t *testing.T) {
	var ran []string
	var toCome []int
	check := func(name string, fail bool) pipeline.Stage {
		return pipeline.CollectingProblems(pipeline.MessageFunc(name, func(_ context.Context, d *pipeline.Document) error {
			ran = append(ran, name)
			toCome = append(toCome, d.AttachmentsToCome())
			if fail {
				return conneqt.NewValidationError([]conneqt.Problem{{Name: name, Reason: "bad"}})
			}
			return nil
		}))
	}
	later := pipeline.CollectingProblems(pipeline.MessageFunc("gate", func(context.Context, *pipeline.Document) error {
		ran = append(ran, "gate")
		return nil
	}))
	p := pipeline.Pipeline{check("validate", true), check("sanitise", false), adder{n: 2}, later}
	c, rest := p.Phases()
	if !slices.Equal(c.Names(), []string{"validate", "sanitise"}) || !slices.Equal(rest.Names(), []string{"adder", "gate"}) {
		t.Fatalf("phases %v / %v", c.Names(), rest.Names())
	}
	err := (&pipeline.Runner{Stages: p}).Process(context.Background(), newDoc(1))
	var ve *conneqt.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 {
		t.Fatalf("err = %v", err)
	}
	if !slices.Equal(ran, []string{"validate", "sanitise"}) {
		t.Errorf("ran %v: want the whole check phase and nothing after it", ran)
	}
	if !slices.Equal(toCome, []int{2, 2}) {
		t.Errorf("AttachmentsToCome = %v, want 2 for both", toCome)
	}
}

type adder struct{ n int }

func (adder) Name() string                                             { return "adder" }
func (adder) ProcessMessage(context.Context, *pipeline.Document) error { return nil }
func (a adder) AttachmentsAdded(*pipeline.Document) int                { return a.n }
