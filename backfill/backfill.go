// Package backfill sends a manifest's messages, thousands to millions of
// them, exactly once, through a pipeline, recording each message's fate in a
// [ledger.Ledger] so that an interrupted or crashed run can simply be run
// again.
//
// [Run] streams the manifest (it is never held in memory), claims each line
// in the ledger, skips what an earlier run finished, and runs the rest
// through a [pipeline.Runner] with bounded concurrency and an optional rate
// limit. A stage of its own, inserted right before "send", marks the message
// sending in the ledger before any byte leaves; the outcome is recorded when
// the document is done. A message left sending by a crash is sent again with
// the same messageId, which the service de-duplicates.
//
// Stopping: closing [Config.Stop] stops taking new lines and lets the
// messages in flight finish (a graceful stop, the first Ctrl-C); cancelling
// the context abandons them (the second Ctrl-C). Either way every ledger
// write is a transaction, so the ledger stays consistent.
package backfill

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages/send"
)

// SendStage is the name of the stage the ledger stage is inserted before.
const SendStage = "send"

// LedgerStage is the name of the stage Run inserts before "send".
const LedgerStage = "ledger"

// Outcome is what happened to one manifest line in this run: gpdoc's one
// outcome vocabulary ([conneqt.Outcome], which the ledger's states also are),
// plus the run-level results below.
type Outcome = conneqt.Outcome

// The outcomes. The first five are ledger states reached in this run.
const (
	OutcomeSent            = conneqt.Sent
	OutcomeInvalid         = conneqt.Invalid
	OutcomeFailedRetryable = conneqt.FailedRetryable
	OutcomeFailedPermanent = conneqt.FailedPermanent
	OutcomeRejectedContent = conneqt.RejectedContent
	// OutcomePrepared: a dry run took the message through every stage.
	OutcomePrepared Outcome = "prepared"
	// OutcomeSkipped: an earlier run finished it (see Result.Reason).
	OutcomeSkipped Outcome = "skipped"
	// OutcomeConflict: the line changed but its messageId may already have
	// been delivered with the old content; nothing was sent.
	OutcomeConflict Outcome = "conflict"
	// OutcomeDuplicate: the messageId appears earlier in the manifest.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeInterrupted: a forced stop abandoned it; the ledger still says
	// pending or sending and a re-run resumes it.
	OutcomeInterrupted Outcome = "interrupted"
)

// Failed reports whether o counts as a failure for the exit code.
func Failed(o Outcome) bool {
	switch o {
	case OutcomeInvalid, OutcomeFailedRetryable, OutcomeFailedPermanent, OutcomeRejectedContent, OutcomeConflict:
		return true
	}
	return false
}

// Config is one backfill run.
type Config struct {
	// Manifest is the JSON Lines input, read as a stream.
	Manifest io.Reader
	// BaseDir is the folder attachment "path"s are relative to.
	BaseDir string
	// Pipeline is the stages every message goes through. With a Ledger it
	// must have a stage named "send".
	Pipeline pipeline.Pipeline
	// Ledger records every message. nil: no ledger (dry runs), every line is
	// processed and nothing is recorded.
	Ledger ledger.Ledger
	// RetryInvalid re-processes lines that ended invalid or rejected-content
	// in an earlier run if they have changed since.
	RetryInvalid bool
	// DryRun marks a run that sends nothing: success is OutcomePrepared.
	DryRun bool
	// Concurrency bounds the messages in flight (<= 0: DefaultConcurrency()).
	Concurrency int
	// Rate limits messages started per second (<= 0: no limit).
	Rate float64
	// Stop, when closed, stops taking new lines; messages in flight finish.
	Stop <-chan struct{}
	// Report, if set, gets one JSON line (a [Result]) per manifest line.
	Report io.Writer
	// Progress, if set, is told about every message.
	Progress Progress
	// Total is the number of lines expected, for progress (<= 0: unknown).
	Total int64
	// Observer, if set, sees the Runner's events.
	Observer pipeline.Observer
	// MaxBytesInFlight is passed to the Runner (<= 0: its default).
	MaxBytesInFlight int64
}

// DefaultConcurrency is the default for Config.Concurrency: sending is mostly
// waiting on the network, so four messages per CPU, at least 4.
func DefaultConcurrency() int { return max(4, 4*runtime.NumCPU()) }

// Result is what happened to one manifest line: one line of the report.
type Result struct {
	Line           int               `json:"line"`
	SourceID       string            `json:"sourceId,omitempty"`
	MessageID      string            `json:"messageId,omitempty"`
	Outcome        Outcome           `json:"outcome"`
	Reason         string            `json:"reason,omitempty"` // why skipped, conflicting or retried
	StatusEndpoint string            `json:"statusEndpoint,omitempty"`
	Problems       []conneqt.Problem `json:"problems,omitempty"`
	Error          string            `json:"error,omitempty"` // a failure that is not a list of problems
	Warnings       []conneqt.Problem `json:"warnings,omitempty"`
	Changes        []pipeline.Change `json:"changes,omitempty"` // renames, downsampling...
	Attempts       int               `json:"attempts"`          // send attempts over all runs
	Bytes          int64             `json:"bytes,omitempty"`   // payload bytes sent (or written)
	Elapsed        time.Duration     `json:"elapsedNs,omitempty"`
}

// Counts are running totals by kind of outcome.
type Counts struct {
	Done      int64 // lines finished, whatever the outcome
	Sent      int64 // sent, or prepared in a dry run
	Invalid   int64 // invalid or rejected-content
	Failed    int64 // failed-retryable, failed-permanent, conflict
	Skipped   int64 // skipped or duplicate
	Bytes     int64 // payload bytes sent
	Abandoned int64 // interrupted
	Resent    int64 // messages sent again after a crash or failure
	Attempts  int64 // send attempts made in this run
}

func (c *Counts) add(r Result) {
	c.Done++
	c.Bytes += r.Bytes
	switch r.Outcome {
	case OutcomeSent, OutcomePrepared:
		c.Sent++
	case OutcomeInvalid, OutcomeRejectedContent:
		c.Invalid++
	case OutcomeFailedRetryable, OutcomeFailedPermanent, OutcomeConflict:
		c.Failed++
	case OutcomeSkipped, OutcomeDuplicate:
		c.Skipped++
	case OutcomeInterrupted:
		c.Abandoned++
	}
}

// Summary is the end of a run.
type Summary struct {
	Counts
	// ByOutcome counts lines by exact outcome.
	ByOutcome map[Outcome]int64
	Elapsed   time.Duration
	// Interrupted is set when the run stopped before the end of the
	// manifest (Stop closed or the context cancelled).
	Interrupted bool
	DryRun      bool
}

// MessagesPerSecond is the rate of messages processed (not skipped).
func (s Summary) MessagesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done-s.Skipped) / s.Elapsed.Seconds()
}

// OK reports whether every line was sent or skipped (exit status 0).
func (s Summary) OK() bool {
	return s.Invalid == 0 && s.Failed == 0 && s.Abandoned == 0 && !s.Interrupted
}

// ErrLedger matches a ledger failure that stopped the run: without a working
// ledger, exactly-once cannot be promised, so nothing more is sent.
var ErrLedger = errors.New("backfill: ledger failure")

// job is the run's bookkeeping for one document in flight.
type job struct {
	res      Result
	start    time.Time
	marked   bool // the ledger says sending
	attempts int
}

type run struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc // stops intake
	start  time.Time
	report *bufio.Writer

	mu       sync.Mutex // guards everything below
	jobs     map[*pipeline.Document]*job
	counts   Counts
	by       map[Outcome]int64
	fatal    error
	stopped  bool
	reportEr error
}

// Run runs a backfill and returns its summary. The error is nil unless the
// run could not go on: a set-up mistake, an I/O error reading the manifest,
// a ledger failure ([ErrLedger]), or ctx's error when cancelled. A graceful
// stop returns a nil error with Summary.Interrupted set. Per-message failures
// are in the summary and the report, not in the error.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.Manifest == nil {
		return Summary{}, errors.New("backfill: no manifest")
	}
	stages := cfg.Pipeline
	r := &run{cfg: cfg, ctx: ctx, start: time.Now(), jobs: map[*pipeline.Document]*job{}, by: map[Outcome]int64{}}
	if cfg.Ledger != nil {
		var err error
		stages, err = stages.InsertBefore(SendStage, pipeline.MessageFunc(LedgerStage, r.markSending))
		if err != nil {
			return Summary{}, fmt.Errorf("backfill: a ledger needs a %q stage to guard: %w", SendStage, err)
		}
	}
	if err := stages.Validate(); err != nil {
		return Summary{}, fmt.Errorf("backfill: %w", err)
	}
	if cfg.Report != nil {
		r.report = bufio.NewWriterSize(cfg.Report, 64<<10)
	}
	conc := cfg.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency()
	}
	runner := &pipeline.Runner{
		Stages:             stages,
		MessageConcurrency: conc,
		MaxBytesInFlight:   cfg.MaxBytesInFlight,
		Observer:           cfg.Observer,
	}

	// intake is cancelled by Stop, by ctx, or by a fatal error.
	intake, stopIntake := context.WithCancel(ctx)
	defer stopIntake()
	r.cancel = stopIntake
	if cfg.Stop != nil {
		go func() {
			select {
			case <-cfg.Stop:
				stopIntake()
			case <-intake.Done():
			}
		}()
	}
	if cfg.Progress != nil {
		cfg.Progress.Start(cfg.Total)
	}
	var limiter *rate.Limiter
	if cfg.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	runErr := runner.Run(ctx, r.docs(intake, limiter), r.done)

	s := r.summary()
	if r.report != nil {
		if err := r.report.Flush(); err != nil && r.reportEr == nil {
			r.reportEr = err
		}
	}
	if cfg.Progress != nil {
		cfg.Progress.Finish(s)
	}
	switch {
	case r.fatal != nil:
		return s, r.fatal
	case runErr != nil:
		s.Interrupted = true
		return s, runErr
	case r.reportEr != nil:
		return s, fmt.Errorf("backfill: writing the report: %w", r.reportEr)
	}
	return s, nil
}

// docs streams the manifest, claims each line and yields the ones to process.
func (r *run) docs(intake context.Context, limiter *rate.Limiter) iter.Seq[*pipeline.Document] {
	return func(yield func(*pipeline.Document) bool) {
		defer func() {
			if intake.Err() != nil {
				r.mu.Lock()
				r.stopped = true
				r.mu.Unlock()
			}
		}()
		for line := range manifest.Read(intake, r.cfg.Manifest, r.cfg.BaseDir) {
			if r.stopRequested() {
				r.cancel()
			}
			if intake.Err() != nil {
				return
			}
			if line.Err != nil {
				var le *manifest.LineError
				if !errors.As(line.Err, &le) {
					r.fail(fmt.Errorf("backfill: %w", line.Err))
					return
				}
				r.finish(Result{Line: line.Number, Outcome: OutcomeInvalid, Error: le.Err.Error()})
				continue
			}
			doc := line.Doc
			j := &job{res: Result{Line: line.Number, SourceID: doc.SourceID, MessageID: doc.Message.MessageID}}
			if r.cfg.Ledger != nil {
				d, err := r.cfg.Ledger.Claim(intake, ledger.Item{MessageID: doc.Message.MessageID, SourceID: doc.SourceID,
					Line: line.Number, Hash: line.Hash}, ledger.ClaimOptions{RetryInvalid: r.cfg.RetryInvalid})
				if err != nil {
					if intake.Err() == nil {
						r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
					}
					return
				}
				j.res.Reason = d.Reason
				if d.Previous != nil {
					j.attempts = d.Previous.Attempts
					j.res.StatusEndpoint = d.Previous.StatusEndpoint
				}
				if d.Action != ledger.Process {
					j.res.Attempts = j.attempts
					j.res.Outcome = map[ledger.Action]Outcome{ledger.Skip: OutcomeSkipped,
						ledger.Conflict: OutcomeConflict, ledger.Duplicate: OutcomeDuplicate}[d.Action]
					r.finish(j.res)
					continue
				}
				if d.Resend {
					r.mu.Lock()
					r.counts.Resent++
					r.mu.Unlock()
				}
				j.res.StatusEndpoint = ""
			}
			if limiter != nil {
				if err := limiter.Wait(intake); err != nil {
					return // stopped; the claim stays pending for the next run
				}
			}
			j.start = time.Now()
			r.mu.Lock()
			r.jobs[doc] = j
			r.mu.Unlock()
			if !yield(doc) {
				return
			}
		}
	}
}

// ErrBlockedContent is returned for a message with an attachment the service
// refused before for its content (a 406, recorded by a [ledger.ContentBlocker]):
// the message is not sent. It matches conneqt.ErrRejectedContent, so the
// message ends rejected-content.
var ErrBlockedContent = fmt.Errorf("an attachment was refused by the service's virus scan before; it is never sent again: %w", conneqt.ErrRejectedContent)

// stopRequested reports whether Config.Stop is closed. The iterator checks it
// itself, so that no line is taken once Stop is closed, however quickly.
func (r *run) stopRequested() bool {
	select {
	case <-r.cfg.Stop: // a nil Stop blocks: never
		return true
	default:
		return false
	}
}

// markSending is the ledger stage: the message is sending, durably, before
// the send stage starts. Attachments the service refused before stop it here.
func (r *run) markSending(ctx context.Context, doc *pipeline.Document) error {
	if b, ok := r.cfg.Ledger.(ledger.ContentBlocker); ok {
		blocked, err := b.BlockedContent(ctx, send.Digests(doc.Message))
		if err != nil {
			if ctx.Err() == nil {
				r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
			}
			return err
		}
		if len(blocked) > 0 {
			return fmt.Errorf("%w (SHA-256 %s)", ErrBlockedContent, strings.Join(blocked, ", "))
		}
	}
	n, err := r.cfg.Ledger.MarkSending(ctx, doc.Message.MessageID)
	if err != nil {
		if ctx.Err() == nil {
			r.fail(fmt.Errorf("%w: %w", ErrLedger, err))
		}
		return err
	}
	r.mu.Lock()
	if j := r.jobs[doc]; j != nil {
		j.marked, j.attempts = true, n
	}
	r.counts.Attempts++
	r.mu.Unlock()
	return nil
}

// done records one document's outcome (the Runner calls it one at a time).
func (r *run) done(doc *pipeline.Document, err error) {
	r.mu.Lock()
	j := r.jobs[doc]
	delete(r.jobs, doc)
	r.mu.Unlock()
	if j == nil { // cannot happen: every yielded document has a job
		j = &job{res: Result{Line: doc.Line, SourceID: doc.SourceID, MessageID: doc.Message.MessageID}, start: time.Now()}
	}
	res := j.res
	res.Elapsed = time.Since(j.start)
	res.Attempts = j.attempts
	res.Changes = doc.Changes()
	res.Warnings = doc.Warnings()
	state := conneqt.Classify(err)
	if interrupted(r.ctx, err) {
		state = ""
	}
	var ve *conneqt.ValidationError
	switch {
	case errors.As(err, &ve):
		res.Problems = ve.Problems
	case err != nil:
		res.Error = err.Error()
	}
	switch {
	case state == "":
		res.Outcome = OutcomeInterrupted
	case state == ledger.Sent && r.cfg.DryRun:
		res.Outcome = OutcomePrepared
	default:
		res.Outcome = state
	}
	if state == ledger.Sent {
		res.StatusEndpoint = doc.StatusEndpoint
		if doc.Payload != nil {
			res.Bytes = doc.Payload.Size()
		}
	}
	if r.cfg.Ledger != nil && state != "" {
		// The outcome is written even when the run is being forced to stop:
		// the send has happened (or not), and the ledger must say which.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 30*time.Second)
		ferr := r.cfg.Ledger.Finish(wctx, doc.Message.MessageID, ledger.Outcome{
			State: state, Problem: problemJSON(problemFor(err, doc.Message.MessageID)), StatusEndpoint: doc.StatusEndpoint})
		var rejected *send.RejectedError
		if b, ok := r.cfg.Ledger.(ledger.ContentBlocker); ok && ferr == nil && errors.As(err, &rejected) {
			ferr = b.BlockContent(wctx, doc.Message.MessageID, rejected.AttachmentSHA256)
		}
		cancel()
		if ferr != nil {
			r.fail(fmt.Errorf("%w: %w", ErrLedger, ferr))
		}
	}
	r.finish(res)
}

// fail records the first fatal error; intake stops at the next line.
func (r *run) fail(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = err
	}
	r.mu.Unlock()
	r.cancel()
}

func (r *run) finish(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.add(res)
	r.by[res.Outcome]++
	if r.report != nil && r.reportEr == nil {
		b, err := json.Marshal(res)
		if err == nil {
			b = append(redactJSON(b), '\n')
			_, err = r.report.Write(b)
		}
		r.reportEr = err
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress.Update(res, r.counts)
	}
}

func (r *run) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	by := make(map[Outcome]int64, len(r.by))
	for k, v := range r.by {
		by[k] = v
	}
	return Summary{Counts: r.counts, ByOutcome: by, Elapsed: time.Since(r.start),
		Interrupted: r.stopped || r.counts.Abandoned > 0, DryRun: r.cfg.DryRun}
}
