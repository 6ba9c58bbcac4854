package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// Defaults for a zero Runner.
const (
	DefaultAttachmentConcurrency = 4
	DefaultMaxBytesInFlight      = 512 << 20
	DefaultMaxFileBytes          = 256 << 20
)

// Runner drives documents through a Pipeline. A Runner is safe for concurrent
// use once configured; do not change its fields while it runs.
type Runner struct {
	// Stages run in order.
	Stages Pipeline
	// AttachmentConcurrency bounds how many attachments of one document run
	// at once (<= 0: DefaultAttachmentConcurrency).
	AttachmentConcurrency int
	// MessageConcurrency bounds how many documents Run processes at once
	// (<= 0: GOMAXPROCS).
	MessageConcurrency int
	// MaxBytesInFlight bounds the attachment bytes (as read from their
	// files) held by documents in progress; a document waits for room before
	// its files are read (<= 0: DefaultMaxBytesInFlight). A document larger
	// than the whole budget runs alone.
	MaxBytesInFlight int64
	// MaxFileBytes is the largest attachment file the Runner will read;
	// larger files are a problem for their attachment (<= 0: DefaultMaxFileBytes).
	MaxFileBytes int64
	// Observer, if set, sees every stage start and finish.
	Observer Observer

	once   sync.Once
	budget *semaphore.Weighted
	limit  int64
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.limit = r.MaxBytesInFlight
		if r.limit <= 0 {
			r.limit = DefaultMaxBytesInFlight
		}
		r.budget = semaphore.NewWeighted(r.limit)
	})
}

// Run processes every document docs yields, up to MessageConcurrency at once,
// and calls done for each with its outcome (nil, a *ValidationError, a
// *StageError, or ctx's error). done is called from one goroutine at a time,
// in completion order. Run stops taking documents once ctx is done and returns
// ctx.Err() then; otherwise it returns nil once every document is done. To
// stop gracefully (finish what is in flight, take no more), stop the iterator.
func (r *Runner) Run(ctx context.Context, docs iter.Seq[*Document], done func(*Document, error)) error {
	if err := r.Stages.Validate(); err != nil {
		return err
	}
	n := r.MessageConcurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	var g errgroup.Group // not WithContext: one document's failure must not stop the others
	g.SetLimit(n)
	var doneMu sync.Mutex
	for doc := range docs {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			err := r.Process(ctx, doc)
			if done != nil {
				doneMu.Lock()
				done(doc, err)
				doneMu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return ctx.Err()
}

// Process runs one document through every stage and returns nil, a
// *ValidationError listing every problem, a *StageError, or ctx's error.
func (r *Runner) Process(ctx context.Context, doc *Document) (err error) {
	r.init()
	start := time.Now()
	in := attachmentBytes(doc)
	defer func() {
		if r.Observer != nil {
			r.Observer.Observe(Event{Kind: DocumentFinished, DocumentID: doc.ID(), Attachment: -1,
				BytesIn: in, BytesOut: outputBytes(doc), Elapsed: time.Since(start), Err: err})
		}
	}()
	if doc.Message == nil || doc.Route == nil {
		return &StageError{Stage: "runner", DocumentID: doc.ID(), Attachment: -1, Err: errors.New("document has no message or no route")}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	weight := min(r.plannedBytes(doc), r.limit)
	if err := r.budget.Acquire(ctx, weight); err != nil {
		return err
	}
	defer r.budget.Release(weight)

	stages := r.Stages
	loaded := false
	for i := 0; i < len(stages); {
		s := stages[i]
		if doc.hasProblems() && !collectsProblems(s) {
			return doc.Err()
		}
		if ms, ok := s.(MessageStage); ok {
			if err := r.runMessageStage(ctx, doc, ms); err != nil {
				return err
			}
			if _, alsoAtt := s.(AttachmentStage); !alsoAtt {
				i++
				continue
			}
		}
		// A run of attachment stages: each attachment goes through all of
		// them in turn, attachments concurrently.
		j := i + 1
		for j < len(stages) {
			if _, isAtt := stages[j].(AttachmentStage); !isAtt {
				break
			}
			if _, isMsg := stages[j].(MessageStage); isMsg {
				break
			}
			j++
		}
		if !loaded {
			r.load(doc)
			loaded = true
		}
		if err := r.runAttachmentStages(ctx, doc, stages[i:j]); err != nil {
			return err
		}
		i = j
	}
	return doc.Err()
}

func (r *Runner) runMessageStage(ctx context.Context, doc *Document, s MessageStage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.observe(Event{Kind: StageStarted, DocumentID: doc.ID(), Stage: s.Name(), Attachment: -1})
	start, in := time.Now(), outputBytes(doc)
	err := safely(func() error { return s.ProcessMessage(ctx, doc) })
	r.observe(Event{Kind: StageFinished, DocumentID: doc.ID(), Stage: s.Name(), Attachment: -1,
		BytesIn: in, BytesOut: outputBytes(doc), Elapsed: time.Since(start), Err: err})
	return r.classify(ctx, doc, s.Name(), -1, err)
}

// classify records a validation error's problems on doc and turns anything
// else into the document's fatal error.
func (r *Runner) classify(ctx context.Context, doc *Document, stage string, att int, err error) error {
	if err == nil {
		return nil
	}
	var ve *conneqt.ValidationError
	if errors.As(err, &ve) {
		doc.AddProblem(ve.Problems...)
		return nil
	}
	var pe *PanicError
	if errors.As(err, &pe) && att >= 0 {
		doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(att, "content"),
			Reason: fmt.Sprintf("could not be processed: the %s stage failed on this file (%v); the file is probably damaged", stage, pe.Value)})
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctxErr
	}
	return &StageError{Stage: stage, DocumentID: doc.ID(), Attachment: att, Err: err}
}

func (r *Runner) runAttachmentStages(ctx context.Context, doc *Document, stages []Stage) error {
	limit := r.AttachmentConcurrency
	if limit <= 0 {
		limit = DefaultAttachmentConcurrency
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range doc.Message.Attachments {
		g.Go(func() error {
			for _, s := range stages {
				if !doc.AttachmentOK(i) || (doc.hasProblems() && !collectsProblems(s)) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				as := s.(AttachmentStage)
				att := doc.Message.Attachments[i]
				r.observe(Event{Kind: StageStarted, DocumentID: doc.ID(), Stage: s.Name(), Attachment: i})
				start, in := time.Now(), int64(len(att.Data))
				err := safely(func() error { return as.ProcessAttachment(gctx, doc, i) })
				r.observe(Event{Kind: StageFinished, DocumentID: doc.ID(), Stage: s.Name(), Attachment: i,
					BytesIn: in, BytesOut: int64(len(doc.Message.Attachments[i].Data)), Elapsed: time.Since(start), Err: err})
				if err := r.classify(gctx, doc, s.Name(), i, err); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return err
	}
	return ctx.Err()
}

// plannedBytes is what the document's attachments will hold once loaded.
func (r *Runner) plannedBytes(doc *Document) int64 {
	var n int64
	for _, a := range doc.Message.Attachments {
		if a.Data == nil && a.Path != "" {
			if fi, err := os.Stat(a.Path); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// load reads every attachment that has a Path and no Data. A file that cannot
// be read is a problem for its attachment.
func (r *Runner) load(doc *Document) {
	max := r.MaxFileBytes
	if max <= 0 {
		max = DefaultMaxFileBytes
	}
	for i, a := range doc.Message.Attachments {
		if a.Data != nil || a.Path == "" {
			continue
		}
		data, err := readFile(a.Path, max)
		if err != nil {
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(i, "path"), Reason: err.Error()})
			continue
		}
		a.Data = data
	}
}

func readFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	if fi.IsDir() {
		return nil, errors.New("is a directory, not a file")
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("file is %d bytes, more than gpdoc reads (%d)", fi.Size(), max)
	}
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", err)
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return nil, fmt.Errorf("file is more than gpdoc reads (%d bytes)", max)
	}
	return data, nil
}

func (r *Runner) observe(e Event) {
	if r.Observer != nil {
		r.Observer.Observe(e)
	}
}

// safely calls fn and turns a panic into a *PanicError with its stack.
func safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

func attachmentBytes(doc *Document) int64 {
	if doc.Message == nil {
		return 0
	}
	var n int64
	for _, a := range doc.Message.Attachments {
		n += int64(len(a.Data))
	}
	return n
}

func outputBytes(doc *Document) int64 {
	if doc.Payload != nil {
		return doc.Payload.Size()
	}
	return attachmentBytes(doc)
}
