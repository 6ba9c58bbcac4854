package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/metrics"
)

// fleetFlags are the flags of backfill and send for running many workers on
// one shared (PostgreSQL) ledger, and for metrics. See docs/scale-out.md.
type fleetFlags struct {
	workerID    string
	leaseTTL    time.Duration
	rateScope   string
	claimBatch  int
	metricsAddr string

	metrics *metrics.Metrics // set by serveMetrics when --metrics-addr is given
}

func (f *fleetFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.workerID, "worker-id", "", "this worker's name in a shared ledger (default host-pid-random); every process needs its own")
	fl.DurationVar(&f.leaseTTL, "lease-ttl", 0, "how long a claim on a postgres:// ledger lasts without a heartbeat; a dead worker's messages are taken over after it (default 30s)")
	fl.StringVar(&f.rateScope, "rate-scope", backfill.RateScopeWorker, "what --rate limits: worker (this process) or fleet (all live workers of the postgres:// ledger together)")
	fl.IntVar(&f.claimBatch, "claim-batch", 0, "lines read ahead and claimed in one round trip on a postgres:// ledger (default --concurrency, at most 256)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on `ADDR`/metrics, e.g. :9464 (default: none)")
}

// check tests the flags' values.
func (f *fleetFlags) check(rateLimit float64) error {
	switch f.rateScope {
	case backfill.RateScopeWorker:
	case backfill.RateScopeFleet:
		if rateLimit == 0 {
			return usageError("--rate-scope fleet needs a --rate")
		}
	default:
		return usageError("--rate-scope must be worker or fleet, not %q", f.rateScope)
	}
	if f.leaseTTL < 0 || (f.leaseTTL > 0 && f.leaseTTL < time.Second) {
		return usageError("--lease-ttl must be at least 1s")
	}
	if f.claimBatch < 0 {
		return usageError("--claim-batch must not be negative")
	}
	return nil
}

// serveMetrics starts the metrics server, if --metrics-addr is given, until
// ctx ends.
func (f *fleetFlags) serveMetrics(ctx context.Context, stderr io.Writer) error {
	if f.metricsAddr == "" {
		return nil
	}
	m := metrics.New()
	addr, err := m.Serve(ctx, f.metricsAddr)
	if err != nil {
		return withCode(exitUsage, fmt.Errorf("--metrics-addr: %w", err))
	}
	f.metrics = m
	fmt.Fprintf(stderr, "gpdoc: metrics on http://%s/metrics\n", addr)
	return nil
}

// onAttempt is the transport's per-attempt hook (nil without metrics).
func (f *fleetFlags) onAttempt() func(string, int, time.Duration, bool) {
	if f.metrics == nil {
		return nil
	}
	return f.metrics.Attempt
}

// configure sets the run's fleet settings.
func (f *fleetFlags) configure(cfg *backfill.Config) {
	cfg.RateScope = f.rateScope
	cfg.ClaimBatch = f.claimBatch
	if f.metrics != nil {
		cfg.Meter = f.metrics
		cfg.Observer = f.metrics
	}
}
