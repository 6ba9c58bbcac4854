// Package metrics exposes what a gpdoc run is doing as Prometheus metrics,
// for the people running a fleet of backfill workers (`gpdoc backfill
// --metrics-addr`). Every metric is named gpdoc_*; docs/scale-out.md lists
// them with their labels.
//
//	gpdoc_messages_total{outcome}           messages finished, by outcome
//	gpdoc_send_attempts_total{route,status} HTTP attempts, by route and status ("network" for no answer)
//	gpdoc_send_retries_total{route,status}  attempts that were retried
//	gpdoc_send_duration_seconds{route}      time of one attempt, histogram
//	gpdoc_stage_duration_seconds{stage}     time of one stage on one document or attachment, histogram
//	gpdoc_bytes_sent_total                  bytes of message bodies accepted by the service
//	gpdoc_messages_in_flight                messages inside the pipeline now
//	gpdoc_lease_takeovers_total             messages taken over from a worker whose lease expired
//
// A Metrics is a value with its own registry (no global state), safe for
// concurrent use; it is a [pipeline.Observer], and the transport and backfill
// report to it through small methods.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpdoc/gpdoc/pipeline"
)

// Metrics holds gpdoc's collectors and the registry they are in.
type Metrics struct {
	reg       *prometheus.Registry
	messages  *prometheus.CounterVec
	attempts  *prometheus.CounterVec
	retries   *prometheus.CounterVec
	sendDur   *prometheus.HistogramVec
	stageDur  *prometheus.HistogramVec
	bytesSent prometheus.Counter
	inFlight  prometheus.Gauge
	takeovers prometheus.Counter
}

// New returns Metrics registered in a registry of their own, with the Go
// runtime and process collectors beside them.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpdoc_messages_total", Help: "Messages finished, by outcome (sent, invalid, failed-retryable, skipped...).",
		}, []string{"outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpdoc_send_attempts_total", Help: "HTTP attempts to send a message, by route and status (network: no answer).",
		}, []string{"route", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gpdoc_send_retries_total", Help: "Send attempts that were retried, by route and the status that caused the retry.",
		}, []string{"route", "status"}),
		sendDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gpdoc_send_duration_seconds", Help: "Time of one send attempt, body upload and answer included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		stageDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gpdoc_stage_duration_seconds", Help: "Time of one pipeline stage on one message or attachment.",
			Buckets: []float64{.0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
		}, []string{"stage"}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpdoc_bytes_sent_total", Help: "Bytes of message bodies the service accepted.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gpdoc_messages_in_flight", Help: "Messages inside the pipeline now.",
		}),
		takeovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gpdoc_lease_takeovers_total", Help: "Messages taken over from a worker whose lease had expired.",
		}),
	}
	m.reg.MustRegister(m.messages, m.attempts, m.retries, m.sendDur, m.stageDur, m.bytesSent, m.inFlight, m.takeovers,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the registry the metrics are in, for tests and for serving
// them with other handlers.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Observe counts pipeline events: stage durations, and messages in flight
// (a document is in flight from its first stage to DocumentFinished).
func (m *Metrics) Observe(e pipeline.Event) {
	switch e.Kind {
	case pipeline.StageFinished:
		m.stageDur.WithLabelValues(e.Stage).Observe(e.Elapsed.Seconds())
	case pipeline.DocumentFinished:
		m.inFlight.Dec()
	}
}

// Started counts a message entering the pipeline; [Metrics.Observe] counts
// it out at DocumentFinished.
func (m *Metrics) Started() { m.inFlight.Inc() }

// Finished counts a message's outcome in this run, and the bytes the
// service accepted for it.
func (m *Metrics) Finished(outcome string, bytesSent int64) {
	m.messages.WithLabelValues(outcome).Inc()
	if bytesSent > 0 {
		m.bytesSent.Add(float64(bytesSent))
	}
}

// Attempt records one HTTP attempt to send on route: its status (0 for no
// answer), how long it took and whether it will be retried.
func (m *Metrics) Attempt(route string, status int, d time.Duration, retried bool) {
	s := "network"
	if status > 0 {
		s = strconv.Itoa(status)
	}
	m.attempts.WithLabelValues(route, s).Inc()
	m.sendDur.WithLabelValues(route).Observe(d.Seconds())
	if retried {
		m.retries.WithLabelValues(route, s).Inc()
	}
}

// TakeOver counts a message taken over from a worker whose lease expired.
func (m *Metrics) TakeOver() { m.takeovers.Inc() }

// Serve serves the metrics on addr (/metrics) until ctx ends. It returns
// once the listener is open, with the address it listens on (addr may have
// port 0), or the error that stopped it from listening.
func (m *Metrics) Serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the run goes on without metrics; nothing to report to
		}
	}()
	return ln.Addr().String(), nil
}
