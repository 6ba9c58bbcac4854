package transport

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Clock is the client's view of time: how it reads the time and waits
// between attempts. Tests pass a fake one so that backoff and Retry-After
// are checked without real sleeps.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, and then returns ctx's error
	// (nil if the wait completed).
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d with a timer, or returns early with ctx's error.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ParseRetryAfter reads a Retry-After header value: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3), relative to now. It reports false for an
// empty or malformed value; a date in the past gives 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		if n > maxSeconds {
			n = maxSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// schedule is the delay policy of one send: cenkalti/backoff's exponential
// interval (no randomisation of its own), with full jitter applied on top
// (a uniform draw in [0, interval]: AWS's "full jitter", which spreads the
// retries of many clients hit by the same outage).
type schedule struct {
	exp *backoff.ExponentialBackOff
}

func newSchedule(initial, maxInterval time.Duration) *schedule {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = initial
	exp.MaxInterval = maxInterval
	exp.Multiplier = 2
	exp.RandomizationFactor = 0
	exp.Reset()
	return &schedule{exp: exp}
}

// next returns the wait before the next attempt.
func (s *schedule) next() time.Duration {
	d := s.exp.NextBackOff()
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}
