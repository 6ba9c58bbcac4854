package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gpdoc/gpdoc/backfill"
	ledgeropen "github.com/gpdoc/gpdoc/ledger/open"
	"github.com/gpdoc/gpdoc/transport"
)

// opFlags are the operator's flags of backfill and send: the pre-flight
// check, the circuit breaker, logging and the JSON summary.
type opFlags struct {
	noCheck        bool
	maxConsecutive int
	quiet          bool
	asJSON         bool
	// stateLedger: the default ledger is in the user's state directory
	// (send), not beside the input (backfill).
	stateLedger bool

	log *slog.Logger // set by setUpLog
}

func (o *opFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&o.noCheck, "no-check", false, "skip the pre-flight check (gpdoc check) before sending")
	fl.IntVar(&o.maxConsecutive, "max-consecutive-failures", backfill.DefaultMaxConsecutiveFailures,
		"stop the run after this many authentication or connection failures in a row (0: never)")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "no per-message lines on standard error (only errors)")
	fl.BoolVar(&o.asJSON, "json", false, "print the summary as one JSON object on standard output")
}

// newLogger returns the logger for --log-level, --log-format and -q,
// writing to w. Per-message lines and the client's retries are warnings;
// each request is a debug record.
func newLogger(w io.Writer, level, format string, quiet bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("--log-level must be debug, info, warn or error, not %q", level)
	}
	if quiet {
		lv = max(lv, slog.LevelError)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError("--log-format must be text or json, not %q", format)
}

// commandLogger is the logger of a command without per-message lines
// (check, topics, token, status, ledger status): the root's --log-level and
// --log-format, on w. The transport client logs its retries to it.
func commandLogger(w io.Writer) *slog.Logger {
	lg, err := newLogger(&lockedWriter{w: w}, resources.logLevel, resources.logFormat, false)
	if err != nil { // the root checked the flags before any command ran
		return slog.New(slog.DiscardHandler)
	}
	return lg
}

// setUpLog sets o.log for the command's standard error. progress is the
// --progress mode: a progress bar drawn on the same terminal has its line
// cleared before each record, so that records do not run into it (the bar
// redraws itself below).
func (o *opFlags) setUpLog(stderr io.Writer, progress string) error {
	bar := progress == "bar"
	if f, ok := stderr.(interface{ Fd() uintptr }); ok && progress == "auto" {
		w, _, err := term.GetSize(int(f.Fd()))
		bar = err == nil && w > 0 // as backfill.NewTerminalProgress decides
	}
	lg, err := newLogger(&lockedWriter{w: stderr, clearLine: bar}, resources.logLevel, resources.logFormat, o.quiet)
	o.log = lg
	return err
}

// lockedWriter serialises writes, so that log records from concurrent
// goroutines (the client's retries, the run's messages) never interleave.
type lockedWriter struct {
	mu        sync.Mutex
	w         io.Writer
	clearLine bool // erase a progress bar's line first
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clearLine {
		io.WriteString(l.w, "\r\x1b[K")
	}
	return l.w.Write(p)
}

// breakerLimit is Config.MaxConsecutiveFailures for the flag (0: never).
func (o *opFlags) breakerLimit() int {
	if o.maxConsecutive <= 0 {
		return -1
	}
	return o.maxConsecutive
}

// stateDir is gpdoc's folder in the user's state directory:
// $XDG_STATE_HOME/gpdoc, or ~/.local/state/gpdoc.
func stateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: set XDG_STATE_HOME or give --ledger: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "gpdoc"), nil
}

// defaultLedger is the ledger file for input when --ledger is not given:
// beside the manifest for backfill, in the user's state directory for send
// (one ledger for every message sent with it).
func (o *opFlags) defaultLedger(input string) (string, error) {
	if !o.stateLedger {
		return input + ".ledger.db", nil
	}
	dir, err := stateDir()
	if err != nil {
		return "", usageError("%v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", withCode(exitUsage, err)
	}
	return filepath.Join(dir, "send.ledger.db"), nil
}

// seekable reports whether r can be read twice (a regular file or a
// buffer), for the pre-flight check to read the routes and topics first.
func seekable(r io.Reader) (io.Seeker, bool) {
	s, ok := r.(io.Seeker)
	if !ok {
		return nil, false
	}
	if _, err := s.Seek(0, io.SeekCurrent); err != nil {
		return nil, false // a pipe
	}
	return s, true
}

// preflight runs gpdoc check before a run sends anything, with the routes
// and topics of the input when it can be read twice (not a pipe). A failed
// check stops the command with exit status 1 and the verdicts.
func (o *opFlags) preflight(ctx context.Context, c *transport.Client, in io.Reader, stderr io.Writer) error {
	if o.noCheck || c == nil {
		return nil
	}
	var req transport.CheckRequest
	if s, ok := seekable(in); ok {
		start, _ := s.Seek(0, io.SeekCurrent)
		r, err := checkRequestOf(in)
		if _, serr := s.Seek(start, io.SeekStart); serr != nil {
			return withCode(exitUsage, fmt.Errorf("rewinding the input after the pre-flight check: %w", serr))
		}
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("reading the input for the pre-flight check: %w", err))
		}
		req = r
	}
	rep := c.Check(ctx, req)
	if rep.OK() {
		o.log.Info("pre-flight check passed", "checks", len(rep.Results))
		return nil
	}
	fmt.Fprintln(stderr, "gpdoc: the pre-flight check failed; nothing was sent:")
	printCheck(stderr, rep, false)
	return withCode(exitFailed, errors.New("pre-flight check failed (fix the set-up, or give --no-check to send anyway)"))
}

// resultTap is a Progress that keeps the last result (send's one message)
// and passes everything on.
type resultTap struct {
	inner backfill.Progress
	mu    sync.Mutex
	last  *backfill.Result
}

func (t *resultTap) Start(total int64) {
	if t.inner != nil {
		t.inner.Start(total)
	}
}

func (t *resultTap) Update(r backfill.Result, c backfill.Counts) {
	t.mu.Lock()
	t.last = &r
	t.mu.Unlock()
	if t.inner != nil {
		t.inner.Update(r, c)
	}
}

func (t *resultTap) Finish(s backfill.Summary) {
	if t.inner != nil {
		t.inner.Finish(s)
	}
}

func (t *resultTap) result() *backfill.Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// runSummary is the summary `--json` prints: one JSON object.
type runSummary struct {
	RunID             string                     `json:"runId"`
	OK                bool                       `json:"ok"`
	DryRun            bool                       `json:"dryRun,omitempty"`
	Interrupted       bool                       `json:"interrupted,omitempty"`
	StopReason        string                     `json:"stopReason,omitempty"`
	Error             string                     `json:"error,omitempty"`
	Counts            summaryCounts              `json:"counts"`
	ByOutcome         map[backfill.Outcome]int64 `json:"byOutcome"`
	TopProblems       []backfill.ProblemCount    `json:"topProblems,omitempty"`
	ElapsedSeconds    float64                    `json:"elapsedSeconds"`
	MessagesPerSecond float64                    `json:"messagesPerSecond"`
	Ledger            string                     `json:"ledger,omitempty"`
	Report            string                     `json:"report,omitempty"`
	Message           *backfill.Result           `json:"message,omitempty"` // send: the one message
}

type summaryCounts struct {
	Done      int64 `json:"done"`
	Sent      int64 `json:"sent"`
	Invalid   int64 `json:"invalid"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
	Abandoned int64 `json:"interrupted"`
	Resent    int64 `json:"resent"`
	Attempts  int64 `json:"attempts"`
	Bytes     int64 `json:"bytes"`
	// On a shared ledger (docs/scale-out.md).
	Busy       int64 `json:"busy"`
	LeaseLost  int64 `json:"leaseLost"`
	TakeOvers  int64 `json:"takeOvers"`
	ClaimCalls int64 `json:"claimCalls"`
}

func newRunSummary(s backfill.Summary, runErr error, ledgerPath, reportPath string, msg *backfill.Result) runSummary {
	out := runSummary{RunID: s.RunID, OK: s.OK() && runErr == nil, DryRun: s.DryRun, Interrupted: s.Interrupted,
		StopReason: s.StopReason, ByOutcome: s.ByOutcome, TopProblems: s.TopProblems,
		ElapsedSeconds: s.Elapsed.Seconds(), MessagesPerSecond: s.MessagesPerSecond(),
		Ledger: ledgerPath, Report: reportPath, Message: msg,
		Counts: summaryCounts{Done: s.Done, Sent: s.Sent, Invalid: s.Invalid, Failed: s.Failed, Skipped: s.Skipped,
			Abandoned: s.Abandoned, Resent: s.Resent, Attempts: s.Attempts, Bytes: s.Bytes,
			Busy: s.Busy, LeaseLost: s.LeaseLost, TakeOvers: s.TakeOvers, ClaimCalls: s.ClaimCalls}}
	if runErr != nil {
		out.Error = runErr.Error()
	}
	if out.ByOutcome == nil {
		out.ByOutcome = map[backfill.Outcome]int64{}
	}
	return out
}

// printSummary prints the end of a run on stdout: the JSON object, or the
// table (send: the message's id, outcome and status endpoint), the most
// frequent problems and where the ledger and report are.
func (o *opFlags) printSummary(w io.Writer, s backfill.Summary, runErr error, ledgerPath, reportPath string, msg *backfill.Result) error {
	if !o.stateLedger {
		msg = nil // backfill: the report holds each message
	}
	if o.asJSON {
		return json.NewEncoder(w).Encode(newRunSummary(s, runErr, ledgerPath, reportPath, msg))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if msg != nil {
		fmt.Fprintf(tw, "messageId\t%s\n", msg.MessageID)
		fmt.Fprintf(tw, "outcome\t%s\n", msg.Outcome)
		if msg.StatusEndpoint != "" {
			fmt.Fprintf(tw, "status endpoint\t%s\n", msg.StatusEndpoint)
		}
		if msg.Reason != "" {
			fmt.Fprintf(tw, "reason\t%s\n", msg.Reason)
		}
	} else {
		if err := s.WriteTable(w); err != nil {
			return err
		}
		if len(s.TopProblems) > 0 {
			fmt.Fprintln(tw, "most frequent problems:")
			for _, p := range s.TopProblems {
				fmt.Fprintf(tw, "  %d\t%s\n", p.Count, p.Problem)
			}
		}
	}
	if ledgerPath != "" {
		fmt.Fprintf(tw, "ledger\t%s\n", ledgerPath)
	}
	if reportPath != "" {
		fmt.Fprintf(tw, "report\t%s\n", reportPath)
	}
	if s.StopReason != "" {
		fmt.Fprintf(tw, "stopped\t%s\n", s.StopReason)
	}
	return tw.Flush()
}

// openReport opens the report for appending: every run adds its lines,
// each with the run's id and time.
func openReport(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return f, nil
}

// ledgerShown is how a ledger is shown: "(in memory)" for --sim, a
// PostgreSQL URL without its password, a file as an absolute path.
func ledgerShown(path string, inMemory bool) string {
	if inMemory {
		return "(in memory)"
	}
	if ledgeropen.IsPostgres(path) {
		return ledgeropen.Describe(path)
	}
	if abs, err := filepath.Abs(path); err == nil && !strings.HasPrefix(path, "/") {
		return abs
	}
	return path
}
