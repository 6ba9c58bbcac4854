package backfill

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/transport"
)

// DefaultMaxConsecutiveFailures is the default of
// Config.MaxConsecutiveFailures.
const DefaultMaxConsecutiveFailures = 5

// ErrTooManyFailures is returned by [Run] when the circuit breaker stopped
// the run: Config.MaxConsecutiveFailures messages in a row failed for a
// reason no other message will get past (the service refused the API key
// or access token, or could not be reached). Sending the rest would only
// mark them failed too, so the run stops taking lines; lines not yet
// claimed stay unclaimed and lines claimed but not yet sent stay pending,
// so that a re-run, once the set-up is fixed, sends them.
var ErrTooManyFailures = errors.New("backfill: stopped after consecutive authentication or connection failures")

// errBreakerOpen stops a message that reached the ledger stage after the
// breaker tripped: it is left pending, untouched.
var errBreakerOpen = errors.New("not sent: the run is stopping after consecutive authentication or connection failures")

// ProblemCount is one of the most frequent problems of a run.
type ProblemCount struct {
	Problem string `json:"problem"`
	Count   int64  `json:"count"`
}

// maxProblemKinds bounds the distinct problems counted for the summary;
// later kinds are counted under "other problems".
const maxProblemKinds = 256

// operator is the run's bookkeeping for the person running it: the circuit
// breaker, the problem counts and the per-message log. Guarded by run.mu.
type operator struct {
	consecutive int
	tripped     bool
	stopReason  string
	problems    map[string]int64
}

// setUp fills the run id and the operator's state.
func (r *run) setUp() {
	r.runID = r.cfg.RunID
	if r.runID == "" {
		if rl, ok := r.cfg.Ledger.(interface{ RunID() string }); ok {
			r.runID = rl.RunID()
		}
	}
	if r.runID == "" {
		r.runID = uuid.NewString()
	}
	r.ops.problems = map[string]int64{}
}

// issue returns the next intake sequence number (the report's order).
func (r *run) issue() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.seq
	r.seq++
	return n
}

// systemic reports whether err is a failure that every later message would
// meet too: the service refused the credentials (401, 403), or could not be
// reached at all.
func systemic(err error) bool {
	var ne *transport.NetworkError
	return errors.Is(err, conneqt.ErrUnauthorized) || errors.As(err, &ne)
}

// countFailure feeds the circuit breaker with one finished message, res
// its result so far.
func (r *run) countFailure(err error, res Result) {
	limit := r.cfg.MaxConsecutiveFailures
	if limit == 0 {
		limit = DefaultMaxConsecutiveFailures
	}
	if limit < 0 {
		return
	}
	r.mu.Lock()
	if !systemic(err) {
		r.ops.consecutive = 0
		r.mu.Unlock()
		return
	}
	r.ops.consecutive++
	trip := r.ops.consecutive >= limit && !r.ops.tripped
	if trip {
		r.ops.tripped = true
		what := "the service could not be reached"
		if errors.Is(err, conneqt.ErrUnauthorized) {
			what = "the service refused the credentials (check the API key and access token: gpdoc check)"
		}
		r.ops.stopReason = fmt.Sprintf("%d messages in a row failed: %s; the last (line %d): %s. Lines not yet sent are left untouched: run again once fixed",
			r.ops.consecutive, what, res.Line, firstProblem(res))
	}
	r.mu.Unlock()
	if trip {
		r.fail(fmt.Errorf("%w: %s", ErrTooManyFailures, r.ops.stopReason))
	}
}

// breakerOpen returns errBreakerOpen once the breaker has tripped.
func (r *run) breakerOpen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ops.tripped {
		return errBreakerOpen
	}
	return nil
}

// subjectOf is the document's subject NHS number, masked, or "".
func subjectOf(doc *pipeline.Document) string {
	if doc.Message == nil {
		return ""
	}
	return nhsnumber.Mask(doc.Message.Subject.ID.Value)
}

// keepProblems copies the problems an earlier run recorded into the result
// of a line that is skipped because it was invalid or rejected before, so
// that every run's report says why.
func keepProblems(res *Result, d ledger.Decision) {
	if d.Previous == nil || len(d.Previous.Problem) == 0 {
		return
	}
	if st := d.Previous.State; st != ledger.Invalid && st != ledger.RejectedContent && st != ledger.FailedPermanent {
		return
	}
	var pd conneqt.ProblemDetails
	if json.Unmarshal(d.Previous.Problem, &pd) != nil {
		return
	}
	switch {
	case len(pd.InvalidParameters) > 0:
		res.Problems = pd.InvalidParameters
	case pd.Detail != "":
		res.Error = pd.Detail
	case pd.Title != "":
		res.Error = pd.Title
	}
}

// firstProblem is the one-line reason of a result, with NHS numbers masked
// and without the ids the log record and the report carry already.
func firstProblem(res Result) string {
	switch {
	case len(res.Problems) > 0:
		return redactText(res.Problems[0].String())
	case res.Error != "":
		s, _, _ := strings.Cut(res.Error, "\n")
		// A stage error starts with the document's id; the send stage and
		// the client name the messageId.
		for _, id := range []string{res.SourceID, res.MessageID} {
			if id != "" {
				s = strings.TrimPrefix(s, id+": ")
			}
		}
		if id := res.MessageID; id != "" {
			s = strings.ReplaceAll(s, "messageId "+id+": ", "")
			s = strings.ReplaceAll(s, " (messageId "+id+")", "")
		}
		return redactText(s)
	}
	return res.Reason
}

// uuids matches UUIDs, such as messageIds.
var uuids = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// redactText masks everything written like an NHS number in s
// ([nhsnumber.Redact], stricter than the output boundary's redact.String,
// which masks only valid numbers) but leaves UUIDs whole (a UUID's last
// group may hold ten digits in a row), and removes the client's secrets
// (redact.String).
func redactText(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range uuids.FindAllStringIndex(s, -1) {
		b.WriteString(nhsnumber.Redact(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(nhsnumber.Redact(s[last:]))
	return redact.String(b.String())
}

// problemKind is firstProblem without the values that differ per message,
// so that the same problem on many messages is counted as one.
func problemKind(res Result) string {
	if len(res.Problems) > 0 {
		p := res.Problems[0]
		return p.Name + ": " + p.Reason
	}
	return uuids.ReplaceAllString(firstProblem(res), "…")
}

// observe counts and logs one finished line; r.mu is held. Lines that
// did not fail get a Debug record (which messageId the line got, and what
// gpdoc changed: renamed, rendered, downsampled).
func (r *run) observe(res Result) {
	if !Failed(res.Outcome) {
		r.debugLine(res)
		return
	}
	kind := problemKind(res)
	if kind == "" {
		kind = string(res.Outcome)
	}
	if _, ok := r.ops.problems[kind]; !ok && len(r.ops.problems) >= maxProblemKinds {
		kind = "other problems"
	}
	r.ops.problems[kind]++
	if lg := r.cfg.Logger; lg != nil {
		attrs := []slog.Attr{slog.Int("line", res.Line), slog.String("outcome", string(res.Outcome))}
		if res.SourceID != "" {
			attrs = append(attrs, slog.String("sourceId", redactText(res.SourceID)))
		}
		if res.MessageID != "" {
			attrs = append(attrs, slog.String("messageId", res.MessageID))
		}
		if res.Subject != "" {
			attrs = append(attrs, slog.String("nhsNumber", res.Subject))
		}
		if p := firstProblem(res); p != "" {
			attrs = append(attrs, slog.String("problem", p))
		}
		if n := len(res.Problems); n > 1 {
			attrs = append(attrs, slog.Int("problems", n))
		}
		lg.LogAttrs(context.Background(), slog.LevelWarn, "message "+string(res.Outcome), attrs...)
	}
}

// top returns the n most frequent problems; r.mu need not be held.
func (o *operator) top(n int) []ProblemCount {
	out := make([]ProblemCount, 0, len(o.problems))
	for k, v := range o.problems {
		out = append(out, ProblemCount{Problem: k, Count: v})
	}
	slices.SortFunc(out, func(a, b ProblemCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Problem, b.Problem))
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// debugLine logs a line that did not fail, at Debug level.
func (r *run) debugLine(res Result) {
	lg := r.cfg.Logger
	if lg == nil || !lg.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.Int("line", res.Line), slog.String("outcome", string(res.Outcome)),
		slog.String("sourceId", redactText(res.SourceID)), slog.String("messageId", res.MessageID)}
	if res.StatusEndpoint != "" {
		attrs = append(attrs, slog.String("statusEndpoint", res.StatusEndpoint))
	}
	for _, c := range res.Changes {
		attrs = append(attrs, slog.String("change", c.Stage+": "+c.Name+" "+c.Action))
	}
	if res.Reason != "" {
		attrs = append(attrs, slog.String("reason", res.Reason))
	}
	lg.LogAttrs(context.Background(), slog.LevelDebug, "message "+string(res.Outcome), attrs...)
}
