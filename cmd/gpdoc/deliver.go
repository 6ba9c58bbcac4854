package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
	ledgeropen "github.com/gpdoc/gpdoc/ledger/open"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/transport"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

// deliverFlags are the flags backfill and send share.
type deliverFlags struct {
	concurrency  int
	rate         float64
	conn         connFlags // --url, --api-key, --access-token, --sim
	dryRun       string
	ledgerPath   string
	retryInvalid bool
	report       string
	progress     string
	interval     time.Duration
	grace        time.Duration
	limits       limitFlags
	allowPaths   []string
	ops          opFlags    // operator.go
	fleet        fleetFlags // fleet.go
}

func (f *deliverFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.IntVar(&f.concurrency, "concurrency", backfill.DefaultConcurrency(), "messages in flight at once")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many messages started per second (0: no limit)")
	f.conn.register(cmd)
	fl.StringVar(&f.dryRun, "dry-run", "", "write each assembled message to `DIR`/<messageId>.json instead of sending")
	fl.StringVar(&f.ledgerPath, "ledger", "", "ledger: an SQLite `FILE`, or a postgres:// URL shared by many workers (env GPDOC_LEDGER, ignored with --sim; default <input>.ledger.db; in memory with --sim)")
	fl.BoolVar(&f.retryInvalid, "retry-invalid", false, "retry messages that were invalid or rejected before, if their line has changed")
	fl.StringVar(&f.report, "report", "", "write one JSON line per message to `FILE`")
	fl.StringVar(&f.progress, "progress", "auto", "progress display: auto (a bar on a terminal, else log lines), bar, text, json or none")
	fl.DurationVar(&f.interval, "progress-interval", 10*time.Second, "how often text and json progress lines are printed")
	fl.DurationVar(&f.grace, "grace", 2*time.Second, "after Ctrl-C (or SIGTERM), how long messages in flight may take to finish before they are abandoned (a re-run resumes them)")
	f.limits.register(cmd)
	addAllowPathFlag(cmd, &f.allowPaths)
	f.ops.register(cmd)
	f.fleet.register(cmd)
}

// delivery is everything a run needs that the flags set up.
type delivery struct {
	client  *transport.Client
	sim     *conneqttest.Server
	ledger  ledger.Ledger
	path    string // the ledger file ("" in memory)
	opts    stages.Options
	closers []func()
}

func (d *delivery) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// setUp checks the flags and opens the client (or simulator) and ledger for
// input, the manifest or message file.
func (f *deliverFlags) setUp(ctx context.Context, input string, stderr io.Writer) (*delivery, error) {
	base, key, token := f.conn.resolve()
	if f.dryRun != "" && f.conn.url == "" {
		base = "" // CONNEQT_URL does not compete with --dry-run
	}
	modes := 0
	for _, on := range []bool{base != "", f.conn.sim, f.dryRun != ""} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return nil, usageError("give exactly one of --url (or CONNEQT_URL), --sim and --dry-run")
	}
	if f.concurrency < 1 {
		return nil, usageError("--concurrency must be at least 1")
	}
	if f.grace < 0 {
		return nil, usageError("--grace must not be negative")
	}
	if f.rate < 0 {
		return nil, usageError("--rate must not be negative")
	}
	routes, err := f.limits.routes()
	if err != nil {
		return nil, err
	}
	d := &delivery{opts: stages.Options{Routes: routes}}
	d.opts.Downsample.PDFTimeout = resources.pdfTimeout // the root's --pdf-timeout
	d.opts.Downsample.MaxConcurrentDecodes = resources.imageDecodes
	if f.dryRun != "" {
		if f.ledgerPath != "" {
			return nil, usageError("--ledger records sends; a --dry-run sends nothing and keeps no ledger")
		}
		if err := os.MkdirAll(f.dryRun, privateDirMode); err != nil {
			return nil, withCode(exitUsage, err)
		}
		d.opts.DryRunDir = f.dryRun
		return d, nil
	}
	if f.conn.sim {
		d.sim, base, key, token = startInProcessSim(stderr)
		d.closers = append(d.closers, d.sim.Close)
	}
	if key == "" {
		d.close()
		return nil, usageError("no API key: set CONNEQT_API_KEY or --api-key")
	}
	client, err := transport.New(transport.Options{BaseURL: base, APIKey: key, AccessToken: token,
		MaxConcurrent: f.concurrency, Logger: f.ops.log, OnAttempt: f.fleet.onAttempt()})
	if err != nil {
		d.close()
		return nil, withCode(exitUsage, err)
	}
	d.client = client
	d.closers = append(d.closers, client.Close)
	d.opts.Sender = client

	if err := f.fleet.check(f.rate); err != nil {
		d.close()
		return nil, err
	}
	path := ledgeropen.Target(f.ledgerPath)
	if f.conn.sim {
		// Never $GPDOC_LEDGER with the simulator: its sends would be
		// recorded as sent in the real ledger.
		path = f.ledgerPath
	}
	if path == "" && f.conn.sim {
		// The in-process simulator forgets everything when it stops, so a
		// ledger file would claim messages are held by a service that no
		// longer exists: keep the ledger in memory too, unless asked.
		d.ledger = ledger.NewMemory()
		return d, nil
	}
	if path == "" && input == "-" {
		d.close()
		return nil, usageError("the manifest comes from standard input, so there is no file to keep the ledger beside: give --ledger FILE")
	}
	if path == "" {
		if path, err = f.ops.defaultLedger(input); err != nil {
			d.close()
			return nil, err
		}
	}
	d.path = ledgeropen.Describe(path) // never the password of a URL
	runID := f.fleet.workerID
	if !ledgeropen.IsPostgres(path) {
		// A file ledger is held by one run at a time, and each run claims
		// under an id of its own: a restarted worker reusing its name would
		// take its unsent lines for duplicates of this run's.
		runID = ""
	}
	l, err := ledgeropen.Open(ctx, path, ledgeropen.Options{RunID: runID, LeaseTTL: f.fleet.leaseTTL})
	if err != nil {
		d.close()
		return nil, withCode(exitUsage, err)
	}
	d.ledger = l
	d.closers = append(d.closers, func() { l.Close() })
	if _, ok := l.(ledger.FleetStater); !ok && f.fleet.rateScope == backfill.RateScopeFleet {
		d.close()
		return nil, usageError("--rate-scope fleet needs a ledger shared by the fleet (--ledger postgres://…); %s is one worker's", d.path)
	}
	return d, nil
}

// newProgress picks the progress display for the --progress flag.
func (f *deliverFlags) newProgress(w io.Writer) (backfill.Progress, error) {
	mode := f.progress
	switch mode {
	case "auto":
		return backfill.NewTerminalProgress(w, f.interval), nil
	case "bar":
		return backfill.NewBarProgress(w), nil
	case "text":
		return backfill.NewLogProgress(w, f.interval, false), nil
	case "json":
		return backfill.NewLogProgress(w, f.interval, true), nil
	case "none":
		return nil, nil
	}
	return nil, usageError("--progress must be auto, bar, text, json or none, not %q", f.progress)
}

// deliver runs a backfill of the manifest read from in, with the signals
// wired: the first SIGINT or SIGTERM stops taking messages and gives those
// in flight up to --grace to finish, then abandons them; a second signal
// abandons them at once. An abandoned message is left pending or sending in
// the ledger, and a re-run resumes it with the same bytes. It prints the
// summary and returns the command's exit error.
func (f *deliverFlags) deliver(cmd *cobra.Command, input string, in io.Reader, total int64) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	// The root context is cancelled by the first signal; this command
	// handles signals itself, in two steps.
	ctx, cancel := context.WithCancel(context.WithoutCancel(cmd.Context()))
	defer cancel()
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintf(stderr, "\ngpdoc: stopping: finishing the messages in flight for up to %v (interrupt again to abandon them now)\n", f.grace)
		close(stop)
		grace := time.NewTimer(f.grace)
		defer grace.Stop()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "\ngpdoc: abandoning the messages in flight")
			cancel()
		case <-grace.C:
			fmt.Fprintf(stderr, "\ngpdoc: abandoning the messages still in flight after %v; a re-run resumes them\n", f.grace)
			cancel()
		case <-ctx.Done():
		}
	}()

	progress, err := f.newProgress(stderr)
	if err != nil {
		return err
	}
	allow, err := checkAllowPaths(f.allowPaths)
	if err != nil {
		return err
	}
	if err := f.ops.setUpLog(stderr, f.progress); err != nil {
		return err
	}
	if err := f.fleet.serveMetrics(ctx, stderr); err != nil {
		return err
	}
	d, err := f.setUp(ctx, input, stderr)
	if err != nil {
		return err
	}
	defer d.close()
	if err := f.ops.preflight(ctx, d.client, in, stderr); err != nil {
		return err
	}
	tap := &resultTap{inner: progress}
	p, err := stages.Default(d.opts)
	if err != nil {
		return withCode(exitUsage, err)
	}
	cfg := backfill.Config{
		Manifest:     in,
		BaseDir:      filepath.Dir(input),
		AllowPaths:   allow,
		Pipeline:     p,
		RetryInvalid: f.retryInvalid,
		DryRun:       f.dryRun != "",
		Concurrency:  f.concurrency,
		Rate:         f.rate,
		Stop:         stop,
		Progress:     tap,
		Total:        total,

		MaxConsecutiveFailures: f.ops.breakerLimit(),
		Logger:                 f.ops.log,
	}
	f.fleet.configure(&cfg)
	if d.ledger != nil {
		cfg.Ledger = d.ledger
	}
	if f.report != "" {
		rf, err := openReport(f.report)
		if err != nil {
			return err
		}
		defer rf.Close()
		cfg.Report = rf
	}
	s, runErr := backfill.Run(ctx, cfg)
	if d.ledger != nil {
		if err := d.ledger.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("closing the ledger: %w", err)
		}
	}
	shown := ""
	if d.ledger != nil {
		shown = ledgerShown(d.path, d.path == "")
	}
	f.ops.printSummary(stdout, s, runErr, shown, f.report, tap.result())
	if d.sim != nil {
		st := d.sim.Stats()
		fmt.Fprintf(stderr, "gpdoc: simulator: %d accepted, %d duplicates, %d rejected\n", st.Accepted, st.Duplicates, st.Rejected)
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		return withCode(exitInterrupted, errors.New("interrupted: messages in flight were abandoned; run again to resume"))
	case runErr != nil:
		return withCode(exitFailed, runErr)
	case s.Interrupted:
		return withCode(exitInterrupted, errors.New("stopped before the end of the input; run again to resume"))
	case !s.OK():
		return withCode(exitFailed, nil)
	}
	return nil
}
