package transport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Verdict is the result of one pre-flight check.
type Verdict string

// The verdicts of a check.
const (
	// Pass: the check succeeded.
	Pass Verdict = "pass"
	// Fail: sending would fail for the reason given.
	Fail Verdict = "fail"
	// Skip: the check does not apply, or could not run because an earlier
	// one failed.
	Skip Verdict = "skip"
	// Note: nothing is wrong, but the check could not verify everything
	// (the detail says what).
	Note Verdict = "note"
)

// CheckResult is one pre-flight check.
type CheckResult struct {
	// Name is what was checked: "connectivity", "api key", "access token"
	// or "topics".
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	// Detail says what was found and, on failure, what to do.
	Detail string `json:"detail"`
}

// CheckReport is the result of [Client.Check], in a fixed order.
type CheckReport struct {
	Results []CheckResult `json:"results"`
}

// OK reports whether no check failed.
func (r CheckReport) OK() bool {
	return !slices.ContainsFunc(r.Results, func(c CheckResult) bool { return c.Verdict == Fail })
}

// Failures returns the checks that failed.
func (r CheckReport) Failures() []CheckResult {
	var out []CheckResult
	for _, c := range r.Results {
		if c.Verdict == Fail {
			out = append(out, c)
		}
	}
	return out
}

// CheckRequest says what a run is going to use, so that [Client.Check]
// checks just that.
type CheckRequest struct {
	// Routes the run sends on (nil: none; the access token check then only
	// reports whether one is configured).
	Routes []*conneqt.Route
	// Topics the run's messages carry (empty strings are ignored).
	Topics []string
}

// Check runs the service's pre-flight checks before a run sends anything:
//
//   - connectivity: the service's connectivity test (GET /api/v1/test)
//     answers at all;
//   - api key: that answer is not a 401 or 403;
//   - access token: configured when a route in use requires one (the
//     service has no way to test a token without sending, so a configured
//     token is a note, not a pass);
//   - topics: every topic in use is one the service lists.
//
// Check never returns an error: every failure is a result with a detail
// that says what to do. It makes at most two requests.
func (c *Client) Check(ctx context.Context, req CheckRequest) CheckReport {
	var r CheckReport
	add := func(name string, v Verdict, format string, args ...any) {
		r.Results = append(r.Results, CheckResult{Name: name, Verdict: v, Detail: fmt.Sprintf(format, args...)})
	}
	// One attempt: a pre-flight check reports, it does not wait out a
	// retry schedule.
	_, err := c.doOnce(ctx, c.get(c.endpoint(DefaultPingPath)), nil)
	reached := true
	switch {
	case err == nil:
		add("connectivity", Pass, "%s answers the connectivity test", c.base.Redacted())
		add("api key", Pass, "the service accepts the API key")
	case errors.Is(err, conneqt.ErrUnauthorized):
		add("connectivity", Pass, "%s answers the connectivity test", c.base.Redacted())
		add("api key", Fail, "the service refuses the API key (%s): check CONNEQT_API_KEY", statusText(err))
	default:
		var ae *APIError
		if errors.As(err, &ae) {
			add("connectivity", Fail, "the connectivity test answered %s: the service is not ready to take messages", statusText(err))
		} else {
			add("connectivity", Fail, "cannot reach %s: %v", c.base.Redacted(), rootCause(err))
		}
		add("api key", Skip, "not checked: the service could not be reached")
		reached = false
	}

	var needToken []string
	for _, rt := range req.Routes {
		if rt != nil && rt.AccessToken == conneqt.TokenRequired && !slices.Contains(needToken, string(rt.Name)) {
			needToken = append(needToken, string(rt.Name))
		}
	}
	switch {
	case len(needToken) > 0 && c.accessToken == "":
		add("access token", Fail, "the %s route needs an AccessToken and none is configured: set CONNEQT_ACCESS_TOKEN (gpdoc token exchange CODE gives one)", strings.Join(needToken, ", "))
	case len(needToken) > 0:
		add("access token", Note, "configured for the %s route; the service can only test it with a send", strings.Join(needToken, ", "))
	case c.accessToken != "":
		add("access token", Note, "configured; no route in use requires one")
	default:
		add("access token", Skip, "no route in use requires one")
	}

	var topics []string
	for _, t := range req.Topics {
		if t != "" && !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	slices.Sort(topics)
	switch {
	case len(topics) == 0:
		add("topics", Skip, "no topic in use")
	case !reached:
		add("topics", Skip, "not checked: the service could not be reached")
	default:
		known, err := c.Topics(ctx)
		if err != nil {
			add("topics", Fail, "could not list the service's topics: %v", rootCause(err))
			break
		}
		var unknown []string
		for _, t := range topics {
			if !slices.Contains(known, t) {
				unknown = append(unknown, t)
			}
		}
		if len(unknown) > 0 {
			add("topics", Fail, "the service does not list %s (it lists %s)", quoteAll(unknown), quoteAll(known))
		} else {
			add("topics", Pass, "the service lists every topic in use (%s)", quoteAll(topics))
		}
	}
	return r
}

// statusText is an API error's status, e.g. "401 Unauthorized".
func statusText(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		if ae.Problem != nil && ae.Problem.Title != "" {
			return fmt.Sprintf("%d %s", ae.Status, ae.Problem.Title)
		}
		return fmt.Sprintf("%d", ae.Status)
	}
	return err.Error()
}

// rootCause is the innermost error of a chain, for short messages.
func rootCause(err error) error {
	var ne *NetworkError
	if errors.As(err, &ne) && ne.Err != nil {
		return ne.Err
	}
	return err
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
