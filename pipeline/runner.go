package pipeline

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime"
	"runtime/pprof"
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
	// Logger receives every recovered panic, at error level with its stack
	// (nil: slog.Default()).
	Logger *slog.Logger
	// Decoders are the package path prefixes of the code that decodes
	// untrusted bytes (nil: DefaultDecoders). A panic in an attachment stage
	// that starts in one of them is a problem with that attachment's file;
	// any other panic is an internal error (see PanicError).
	Decoders []string

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
//
// It runs the pipeline in two phases (see Pipeline.Phases). The check phase
// runs on every document, with problems or not, and every problem it finds
// is reported at once; a document with problems stops at its end. The rest
// runs only on a document without problems, and stops it before the first
// stage that is not a ProblemCollector once one is found.
func (r *Runner) Process(ctx context.Context, doc *Document) (err error) {
	r.init()
	start := time.Now()
	if doc.Message == nil || doc.Route == nil {
		return &StageError{Stage: "runner", DocumentID: doc.ID(), Attachment: -1, Err: errors.New("document has no message or no route")}
	}
	in := attachmentBytes(doc)
	defer func() {
		if r.Observer != nil {
			r.Observer.Observe(Event{Kind: DocumentFinished, DocumentID: doc.ID(), Attachment: -1,
				BytesIn: in, BytesOut: outputBytes(doc), Elapsed: time.Since(start), Err: err})
		}
	}()
	// A null in the attachments array is a problem for its place; every
	// stage leaves it alone (it is never AttachmentOK).
	for i, a := range doc.Message.Attachments {
		if a == nil {
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(i, ""), Reason: "must be an attachment object, not null"})
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, s := range r.Stages {
		if p, ok := s.(Preparer); ok {
			p.PrepareDocument(doc)
		}
	}
	files, weight := r.planFiles(doc)
	if err := r.budget.Acquire(ctx, weight); err != nil {
		return err
	}
	defer r.budget.Release(weight)

	r.loadFiles(doc, files)
	check, rest := r.Stages.Phases()
	err = r.runStages(ctx, doc, r.Stages, 0, len(check))
	doc.forgetAll() // what the check phase kept (a parsed PDF) is not held through the rest
	if err != nil {
		return err
	}
	if doc.hasProblems() {
		return doc.Err()
	}
	if err := r.runStages(ctx, doc, r.Stages, len(check), len(check)+len(rest)); err != nil {
		return err
	}
	return doc.Err()
}

// runStages runs stages[from:to] on doc. A document with problems stops
// before the first stage that is not a ProblemCollector.
func (r *Runner) runStages(ctx context.Context, doc *Document, stages Pipeline, from, to int) error {
	for i := from; i < to; {
		s := stages[i]
		if doc.hasProblems() && !collectsProblems(s) {
			return doc.Err()
		}
		if ms, ok := s.(MessageStage); ok {
			doc.setAttachmentsToCome(attachmentsAdded(doc, stages[i+1:]))
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
		for j < to {
			if _, isAtt := stages[j].(AttachmentStage); !isAtt {
				break
			}
			if _, isMsg := stages[j].(MessageStage); isMsg {
				break
			}
			j++
		}
		if err := r.runAttachmentStages(ctx, doc, stages[i:j]); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// attachmentsAdded is how many attachments the stages of p will add to doc.
func attachmentsAdded(doc *Document, p Pipeline) int {
	n := 0
	for _, s := range p {
		if a, ok := s.(AttachmentAdder); ok {
			n += a.AttachmentsAdded(doc)
		}
	}
	return n
}

func (r *Runner) runMessageStage(ctx context.Context, doc *Document, s MessageStage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.observe(Event{Kind: StageStarted, DocumentID: doc.ID(), Stage: s.Name(), Attachment: -1})
	start, in := time.Now(), outputBytes(doc)
	err := r.safely(doc, s.Name(), -1, func() error {
		return labelled(ctx, s.Name(), func(ctx context.Context) error { return s.ProcessMessage(ctx, doc) })
	})
	r.observe(Event{Kind: StageFinished, DocumentID: doc.ID(), Stage: s.Name(), Attachment: -1,
		BytesIn: in, BytesOut: outputBytes(doc), Elapsed: time.Since(start), Err: err})
	return r.classify(ctx, doc, s.Name(), -1, err)
}

// classify records a validation error's problems on doc and turns anything
// else into the document's fatal error. A panic that started in a decoder
// of attachment att's bytes is a problem with that file; any other panic is
// a *StageError wrapping the *PanicError (an internal error).
func (r *Runner) classify(ctx context.Context, doc *Document, stage string, att int, err error) error {
	if err == nil {
		return nil
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		if pe.Decoder != "" && att >= 0 {
			doc.AddProblem(conneqt.Problem{Name: conneqt.AttachmentField(att, "content"),
				Reason: fmt.Sprintf("could not be read: the file is probably damaged (panic in %s)", pe.Decoder)})
			return nil
		}
		return &StageError{Stage: stage, DocumentID: doc.ID(), Attachment: att, Err: pe}
	}
	var ve *conneqt.ValidationError
	if errors.As(err, &ve) {
		doc.AddProblem(ve.Problems...)
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
	// Whether a stage runs on an attachment depends on the problems the
	// document had before this run and on the attachment's own, never on
	// what the run finds in other attachments meanwhile: the report does
	// not depend on timing.
	hadProblems := doc.hasProblems()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range doc.Message.Attachments {
		g.Go(func() error {
			for _, s := range stages {
				if !doc.AttachmentOK(i) || (hadProblems && !collectsProblems(s)) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				as := s.(AttachmentStage)
				r.observe(Event{Kind: StageStarted, DocumentID: doc.ID(), Stage: s.Name(), Attachment: i})
				start, in := time.Now(), dataLen(doc.Message.Attachments[i])
				err := r.safely(doc, s.Name(), i, func() error {
					return labelled(gctx, s.Name(), func(ctx context.Context) error { return as.ProcessAttachment(ctx, doc, i) })
				})
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

// StageLabel is the pprof label that names the stage a goroutine is
// working for: the Runner runs every stage under it, and the goroutines a
// stage starts inherit it, so that a CPU profile can be split by stage
// (`go tool pprof -tagfocus stage=downsample`, or `-tags`).
const StageLabel = "stage"

// labelled runs fn with ctx carrying the pprof label StageLabel=stage.
func labelled(ctx context.Context, stage string, fn func(context.Context) error) error {
	var err error
	pprof.Do(ctx, pprof.Labels(StageLabel, stage), func(ctx context.Context) { err = fn(ctx) })
	return err
}

// safely calls fn through Recover and logs a recovered panic, with its
// stack, at error level. Only the log sees the stack.
func (r *Runner) safely(doc *Document, stage string, att int, fn func() error) error {
	err := Recover(r.Decoders, fn)
	var pe *PanicError
	if errors.As(err, &pe) && pe.Stage == "" {
		pe.Stage = stage
		logger := r.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Error("stage panicked", "stage", stage, "document", doc.ID(), "attachment", att,
			"decoder", pe.Decoder, "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
	return err
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
