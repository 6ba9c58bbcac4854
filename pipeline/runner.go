package pipeline

import (
	"context"
	"errors"
	"fmt"
	"iter"
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
	// its files are read (<= 0: DefaultMaxBytesInFlight). A document whose files total more than the whole budget is a problem at
	// "attachments" and none of its files is read.
	MaxBytesInFlight int64
	// MaxFileBytes, if > 0, is the largest attachment file the Runner will
	// read, whatever its type; larger files are a problem at
	// attachments[i].path. If <= 0 the cap depends on the file's type and
	// route (conneqt.Route.MaxSourceBytes). Files are read only from
	// Document.Folders and only if regular (see files.go).
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
	files, weight := r.planFiles(doc)
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
			r.loadFiles(doc, files)
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
				r.observe(Event{Kind: StageStarted, DocumentID: doc.ID(), Stage: s.Name(), Attachment: i})
				start, in := time.Now(), dataLen(doc.Message.Attachments[i])
				err := safely(func() error { return as.ProcessAttachment(gctx, doc, i) })
				r.observe(Event{Kind: StageFinished, DocumentID: doc.ID(), Stage: s.Name(), Attachment: i,
					BytesIn: in, BytesOut: dataLen(doc.Message.Attachments[i]), Elapsed: time.Since(start), Err: err})
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
		n += dataLen(a)
	}
	return n
}

// dataLen is the length of a's bytes; 0 for a nil attachment (a manifest's
// null), which the validate stage reports.
func dataLen(a *conneqt.Attachment) int64 {
	if a == nil {
		return 0
	}
	return int64(len(a.Data))
}

func outputBytes(doc *Document) int64 {
	if doc.Payload != nil {
		return doc.Payload.Size()
	}
	return attachmentBytes(doc)
}
