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
// the same messageId and the same bytes, which the service de-duplicates:
// the ledger records the payload's SHA-256 at the first send, each document
// gets the time of its first claim as [pipeline.Document.ReferenceTime] (for
// stages that need "now"), and a resend whose bytes differ is not sent but
// reported as OutcomeConflict. A message that may have been delivered is
// only ever recorded sent or failed-retryable (see docs/backfill.md, "The
// exactly-once contract").
//
// Many workers: on a ledger shared by several processes (package
// ledger/postgres, leases), Run reads ahead and claims [Config.ClaimBatch]
// lines per round trip ([ledger.BatchClaimer]); a line another live worker
// holds is looked at again once the manifest is read, and ends taken over,
// skipped or [OutcomeBusy]; a lease lost to another worker ends that message
// [OutcomeLeaseLost], not the run. See fleet.go and docs/scale-out.md.
//
// Stopping: closing [Config.Stop] stops taking new lines and lets the
// messages in flight finish (a graceful stop, the first Ctrl-C); cancelling
// the context abandons them (the second Ctrl-C). Either way every ledger
// write is a transaction, so the ledger stays consistent.
package backfill

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
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
	// OutcomeConflict: the message cannot go out under its messageId
	// without risking two different documents under one id: the line
	// changed but the id may already have been delivered with the old
	// content; another line of this manifest has the same id and other
	// content; the payload prepared now differs from the bytes sent before
	// under the id; or the service answered 409 (it holds other content
	// under the id). Nothing more is sent; Result.Reason says which, with
	// the payload hashes. An operator decides (docs/backfill.md).
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
	// BaseDir is the folder attachment "path"s are relative to, and the
	// only one files are read from unless AllowPaths adds more.
	BaseDir string
	// AllowPaths are more folders attachment files may be read from
	// (manifest.Options.AllowPaths).
	AllowPaths []string
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
	// Rate limits messages started per second (<= 0: no limit); see
	// RateScope for a fleet-wide rate.
	Rate float64
	// Stop, when closed, stops taking new lines; messages in flight finish.
	Stop <-chan struct{}
	// Report, if set, gets one JSON line (a [Result]) per manifest line,
	// in line order (see [ReportWindow]), each with the run's id and time.
	Report io.Writer
	// Progress, if set, is told about every message.
	Progress Progress
	// Total is the number of lines expected, for progress (<= 0: unknown).
	Total int64
	// Observer, if set, sees the Runner's events.
	Observer pipeline.Observer
	// MaxBytesInFlight is passed to the Runner (<= 0: its default).
	MaxBytesInFlight int64

	// Documents, instead of Manifest, are documents built in code (see
	// [manifest.NewDocument]); give one or the other. See source.go.
	Documents iter.Seq[*pipeline.Document]
	// MaxConsecutiveFailures stops the run after this many authentication
	// or connection failures in a row (0: [DefaultMaxConsecutiveFailures];
	// < 0: never). See [ErrTooManyFailures].
	MaxConsecutiveFailures int
	// Logger, if set, gets one Warn record per message that ends invalid,
	// failed or conflicting (NHS numbers masked). See logging.go.
	Logger *slog.Logger
	// RunID names the run in the report (empty: the ledger's run id, if it
	// has one, else a new random id).
	RunID string

	// ClaimBatch is the number of lines read ahead and claimed in one call
	// on a ledger that is a [ledger.BatchClaimer] (<= 0: the concurrency,
	// at most 256; other ledgers claim line by line). See fleet.go.
	ClaimBatch int
	// BusyRecheck is how often, once the manifest is read, the run looks
	// again at lines another worker held (0: [DefaultBusyRecheck]; < 0:
	// never, they end busy at once).
	BusyRecheck time.Duration
	// Meter, if set, counts messages for metrics (package metrics).
	Meter Meter
	// RateScope "fleet" makes Rate the whole fleet's: on a ledger that is a
	// [ledger.FleetStater], each worker starts at most Rate divided by the
	// live workers, re-counted every [FleetRateEvery]. Empty or "worker":
	// Rate is this process's own.
	RateScope string
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
	Changes        []pipeline.Change `json:"changes,omitempty"`       // renames, downsampling...
	Attempts       int               `json:"attempts"`                // send attempts over all runs
	PayloadSHA256  string            `json:"payloadSha256,omitempty"` // hex SHA-256 of the payload sent (or written)
	Bytes          int64             `json:"bytes,omitempty"`         // payload bytes sent (or written)
	Elapsed        time.Duration     `json:"elapsedNs,omitempty"`
	// Subject is the subject's NHS number, masked (943***5919).
	Subject string `json:"subject,omitempty"`
	// RunID and Time say which run wrote the line, and when it finished.
	RunID string    `json:"runId,omitempty"`
	Time  time.Time `json:"time,omitzero"`

	seq int // intake order, for the report
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
	Busy      int64 // busy: another worker held the line
	LeaseLost int64 // lease-lost: another worker took the message over
	TakeOvers int64 // messages taken over from a worker whose lease expired
	// ClaimCalls counts the ledger claim calls (round trips) of the run.
	ClaimCalls int64
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
	case OutcomeBusy:
		c.Busy++
	case OutcomeLeaseLost:
		c.LeaseLost++
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
	// RunID names the run (as in the report).
	RunID string
	// TopProblems are the most frequent first problems of the lines that
	// ended invalid, failed or conflicting, most frequent first.
	TopProblems []ProblemCount
	// StopReason says why the run stopped early (the circuit breaker), if
	// it did.
	StopReason string
}

// MessagesPerSecond is the rate of messages processed (not skipped).
func (s Summary) MessagesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Done-s.Skipped) / s.Elapsed.Seconds()
}

// OK reports whether every line was sent or skipped (exit status 0): a
// line left busy or lease-lost to another worker is not done as far as this
// run knows.
func (s Summary) OK() bool {
	return s.Invalid == 0 && s.Failed == 0 && s.Abandoned == 0 && s.Busy == 0 && s.LeaseLost == 0 && !s.Interrupted
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
	// delivered: an earlier run left the message in a state that says it
	// may have been delivered (sending, failed-retryable); only "sent" may
	// end that.
	delivered bool
	recorded  string // payload hash recorded by an earlier send, if any
}

type run struct {
	cfg    Config
	ctx    context.Context
	cancel context.CancelFunc // stops intake
	start  time.Time
	report *bufio.Writer
	order  *reportOrder
	ops    operator // breaker, problem counts, logging: operator.go

	mu       sync.Mutex // guards everything below
	jobs     map[*pipeline.Document]*job
	counts   Counts
	by       map[Outcome]int64
	fatal    error
	runID    string
	seq      int // the next intake sequence number
	stopped  bool
	reportEr error
}

// Run runs a backfill and returns its summary. The error is nil unless the
// run could not go on: a set-up mistake, an I/O error reading the manifest,
// a ledger failure ([ErrLedger]), or ctx's error when cancelled. A graceful
// stop returns a nil error with Summary.Interrupted set. Per-message failures
// are in the summary and the report, not in the error.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if (cfg.Manifest == nil) == (cfg.Documents == nil) {
		return Summary{}, errors.New("backfill: give a manifest or documents, not both or neither")
	}
	stages := cfg.Pipeline
	r := &run{cfg: cfg, ctx: ctx, start: time.Now(), jobs: map[*pipeline.Document]*job{}, by: map[Outcome]int64{}}
	r.setUp()
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
		r.order = newReportOrder(r.report)
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
		if err := r.fleetRate(intake, limiter); err != nil {
			return Summary{}, err
		}
	}
	runErr := runner.Run(ctx, r.docs(intake, limiter, conc), r.done)

	s := r.summary()
	if r.report != nil {
		r.mu.Lock()
		if err := r.order.flush(); err != nil && r.reportEr == nil {
			r.reportEr = err
		}
		r.mu.Unlock()
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
	if err := r.breakerOpen(); err != nil {
		return err
	}
	if b, ok := r.cfg.Ledger.(ledger.ContentBlocker); ok {
		blocked, err := b.BlockedContent(ctx, send.DocumentDigests(doc))
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
	sum, err := payloadSHA256(doc.Payload)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if j := r.jobs[doc]; j != nil {
		j.res.PayloadSHA256 = sum
	}
	r.mu.Unlock()
	n, err := r.cfg.Ledger.MarkSending(ctx, doc.Message.MessageID, sum)
	if errors.Is(err, ledger.ErrPayloadConflict) || errors.Is(err, ledger.ErrLeaseLost) {
		return err // this message's conflict or lost lease, not the ledger's failure
	}
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
	if interrupted(r.ctx, err) || errors.Is(err, errBreakerOpen) || errors.Is(err, ledger.ErrLeaseLost) {
		state = "" // untouched: the ledger keeps it pending (or another worker has it)
	}
	var ve *conneqt.ValidationError
	switch {
	case errors.As(err, &ve):
		res.Problems = ve.Problems
	case err != nil:
		res.Error = err.Error()
	}
	switch {
	case errors.Is(err, ledger.ErrLeaseLost):
		res.Outcome = OutcomeLeaseLost
	case state == "":
		res.Outcome = OutcomeInterrupted
	case state == ledger.Sent && r.cfg.DryRun:
		res.Outcome = OutcomePrepared
	default:
		res.Outcome = state
	}
	// What the ledger records: the outcome, except that a message that may
	// have been delivered stays resendable (same id, same bytes) until it
	// is sent. A conflict is for an operator to resolve.
	recordState := state
	var pc *ledger.PayloadConflictError
	switch {
	case state == "":
	case errors.As(err, &pc):
		res.Outcome, res.Reason, recordState = OutcomeConflict, pc.Error(), ledger.FailedRetryable
	case errors.Is(err, conneqt.ErrConflict):
		res.Outcome, recordState = OutcomeConflict, ledger.FailedRetryable
		res.Reason = conflictReason(j.recorded, res.PayloadSHA256)
	case j.delivered && state != ledger.Sent && !state.MayHaveBeenDelivered():
		recordState = ledger.FailedRetryable
		res.Reason = joinReason(res.Reason, "recorded failed-retryable, not "+string(state)+
			": an earlier send may have been delivered, so only the same bytes may go out under this messageId")
	}
	if state == ledger.Sent {
		res.StatusEndpoint = doc.StatusEndpoint
		if doc.Payload != nil {
			res.Bytes = doc.Payload.Size()
		}
	}
	problem := problemFor(err, doc.Message.MessageID)
	if res.Outcome == OutcomeConflict {
		// What the operator needs, in the ledger too (gpdoc status).
		problem = &conneqt.ProblemDetails{Title: "Conflict: not sent again under this messageId",
			Detail: res.Reason, Instance: doc.Message.MessageID}
		if errors.Is(err, conneqt.ErrConflict) {
			problem.Status = http.StatusConflict
		}
	}
	if r.cfg.Ledger != nil && recordState != "" {
		// The outcome is written even when the run is being forced to stop:
		// the send has happened (or not), and the ledger must say which.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 30*time.Second)
		ferr := r.cfg.Ledger.Finish(wctx, doc.Message.MessageID, ledger.Outcome{
			State: recordState, Problem: problemJSON(problem), StatusEndpoint: doc.StatusEndpoint})
		var rejected *send.RejectedError
		if b, ok := r.cfg.Ledger.(ledger.ContentBlocker); ok && ferr == nil && errors.As(err, &rejected) {
			ferr = b.BlockContent(wctx, doc.Message.MessageID, rejected.AttachmentSHA256)
		}
		cancel()
		switch {
		case errors.Is(ferr, ledger.ErrLeaseLost):
			// Another worker took the message over while it was sent here;
			// it sends it again (same messageId, same bytes) and records it.
			res.Outcome = OutcomeLeaseLost
			res.Reason = joinReason(res.Reason, "recorded by the worker that took it over, not here: "+ferr.Error())
		case ferr != nil:
			r.fail(fmt.Errorf("%w: %w", ErrLedger, ferr))
		}
	}
	if state != "" && !r.cfg.DryRun && res.Outcome != OutcomeLeaseLost {
		r.countFailure(err, res)
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
	res.RunID, res.Time = r.runID, time.Now().UTC()
	r.observe(res)
	if r.cfg.Meter != nil {
		r.cfg.Meter.Finished(string(res.Outcome), res.Bytes)
	}
	if r.order != nil && r.reportEr == nil {
		r.reportEr = r.order.done(res)
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
		Interrupted: r.stopped || r.counts.Abandoned > 0, DryRun: r.cfg.DryRun,
		RunID: r.runID, TopProblems: r.ops.top(5), StopReason: r.ops.stopReason}
}
