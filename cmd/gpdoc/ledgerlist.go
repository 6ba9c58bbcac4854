package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/conneqt/nhsnumber"
	"github.com/gpdoc/gpdoc/ledger"
	ledgeropen "github.com/gpdoc/gpdoc/ledger/open"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/transport"
)

// ledgerCommands are the sub-commands of `gpdoc ledger` defined outside
// ledgercmd.go.
var ledgerCommands = []func() *cobra.Command{newLedgerList("list"), newLedgerList("export"), newLedgerStatus}

// exportRecord is one line of `ledger export`: the ledger's entry and the
// delivery status last polled, if any.
type exportRecord struct {
	ledger.Entry
	Delivery *ledger.StatusRecord `json:"delivery,omitempty"`
}

// csvHeader is the header row of `--format csv`.
var csvHeader = []string{"messageId", "sourceId", "line", "hash", "state", "attempts", "problem", "statusEndpoint",
	"runId", "created", "updated", "deliveryStatus", "deliverySubStatus", "deliveryReason", "deliveryChecked", "polls",
	"payloadSha256", "leaseUntil"}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (r exportRecord) csvRow() []string {
	d := r.Delivery
	if d == nil {
		d = &ledger.StatusRecord{}
	}
	polls := make([]string, len(d.Polls))
	for i, p := range d.Polls {
		polls[i] = csvTime(p)
	}
	return []string{r.MessageID, r.SourceID, strconv.Itoa(r.Line), r.Hash, string(r.State), strconv.Itoa(r.Attempts),
		string(r.Problem), r.StatusEndpoint, r.RunID, csvTime(r.Created), csvTime(r.Updated),
		d.Status, d.SubStatus, d.Reason, csvTime(d.Checked), strings.Join(polls, " "),
		r.PayloadSHA256, csvTime(r.LeaseUntil)}
}

// problemLine is a one-line reading of an entry's last problem, with NHS
// numbers masked, for the table.
func problemLine(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var pd conneqt.ProblemDetails
	if json.Unmarshal(raw, &pd) != nil {
		return nhsnumber.Redact(string(raw))
	}
	s := pd.Detail
	if len(pd.InvalidParameters) > 0 {
		s = pd.InvalidParameters[0].String()
		if n := len(pd.InvalidParameters); n > 1 {
			s += fmt.Sprintf(" (+%d more)", n-1)
		}
	} else if s == "" {
		s = pd.Title
	}
	s, _, _ = strings.Cut(s, "\n")
	return nhsnumber.Redact(s)
}

// stateFilter checks --state values and returns the filter.
func stateFilter(states []string) (func(ledger.State) bool, error) {
	var want []ledger.State
	for _, s := range states {
		for _, p := range strings.Split(s, ",") {
			st := ledger.State(strings.TrimSpace(p))
			if !slices.Contains(ledger.States, st) {
				names := make([]string, len(ledger.States))
				for i, s := range ledger.States {
					names[i] = string(s)
				}
				return nil, usageError("--state %q is not a state: one of %s", p, strings.Join(names, ", "))
			}
			want = append(want, st)
		}
	}
	return func(s ledger.State) bool { return len(want) == 0 || slices.Contains(want, s) }, nil
}

// openLedgerFile opens an existing ledger file (never creating one).
func openLedgerFile(ctx context.Context, path string, readOnly bool) (*sqlite.Ledger, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, withCode(exitUsage, err)
	}
	l, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return l, nil
}

// openReadOnly opens the ledger a command's argument names, read-only: a
// postgres:// URL, or an existing SQLite file; without an argument,
// $GPDOC_LEDGER.
func openReadOnly(ctx context.Context, args []string) (ledger.Ledger, error) {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	target := ledgeropen.Target(arg)
	if target == "" {
		return nil, usageError("no ledger given: a file, or a postgres:// URL (or set %s)", ledgeropen.EnvLedger)
	}
	if !ledgeropen.IsPostgres(target) {
		l, err := openLedgerFile(ctx, target, true)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	l, err := ledgeropen.Open(ctx, target, ledgeropen.Options{ReadOnly: true})
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return l, nil
}

// writeEntries writes every entry the filter keeps in format; l must be a
// [ledger.Lister], and delivery statuses are shown where it is a
// [ledger.StatusStore].
func writeEntries(ctx context.Context, w io.Writer, l ledger.Ledger, keep func(ledger.State) bool, format string) error {
	lister, ok := l.(ledger.Lister)
	if !ok {
		return withCode(exitUsage, errors.New("this ledger cannot list its entries"))
	}
	statuses, _ := l.(ledger.StatusStore)
	var emit func(exportRecord) error
	var done func() error
	switch format {
	case "jsonl":
		enc := json.NewEncoder(w)
		emit, done = func(r exportRecord) error { return enc.Encode(r) }, func() error { return nil }
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		emit = func(r exportRecord) error { return cw.Write(r.csvRow()) }
		done = func() error { cw.Flush(); return cw.Error() }
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tSOURCE ID\tMESSAGE ID\tSTATE\tATTEMPTS\tDELIVERY\tUPDATED\tLAST PROBLEM")
		emit = func(r exportRecord) error {
			delivery := ""
			if r.Delivery != nil {
				delivery = r.Delivery.Status
			}
			_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Line, nhsnumber.Redact(r.SourceID), r.MessageID, r.State,
				r.Attempts, delivery, r.Updated.UTC().Format("2006-01-02 15:04:05Z"), problemLine(r.Problem))
			return err
		}
		done = tw.Flush
	default:
		return usageError("--format must be table, jsonl or csv, not %q", format)
	}
	err := lister.List(ctx, func(e ledger.Entry) error {
		if !keep(e.State) {
			return nil
		}
		r := exportRecord{Entry: e}
		if statuses == nil {
			return emit(r)
		}
		st, err := statuses.Status(ctx, e.MessageID)
		if err != nil {
			return err
		}
		if st.Status != "" || len(st.Polls) > 0 {
			r.Delivery = &st
		}
		return emit(r)
	})
	if err != nil {
		return withCode(exitFailed, err)
	}
	return done()
}

// newLedgerList returns `ledger list` or `ledger export`: the same listing,
// as a table or as data.
func newLedgerList(name string) func() *cobra.Command {
	return func() *cobra.Command {
		var states []string
		format := "table"
		short := "List a ledger's messages: state, attempts, delivery status, last problem"
		if name == "export" {
			format = "jsonl"
			short = "Export every message of a ledger as JSON Lines or CSV, for reconciliation"
		}
		cmd := &cobra.Command{
			Use:   name + " [LEDGER]",
			Short: short,
			Long: short + `.

Every message the ledger holds, in manifest line order, with its state, send
attempts, last problem (an RFC 7807 object), status endpoint, the run that last
claimed it, its timestamps and the delivery status last polled (gpdoc ledger
status). --state keeps only the given states (repeat it, or separate with
commas). The ledger is opened read-only, so this can run while a backfill
writes it.

Formats: table (list's default; problems on one line, NHS numbers masked),
jsonl (export's default; one ledger entry per line, problems as recorded) or
csv (the same fields; the problem as its JSON text).

LEDGER is an SQLite file or a postgres:// URL (default $GPDOC_LEDGER).`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				keep, err := stateFilter(states)
				if err != nil {
					return err
				}
				l, err := openReadOnly(cmd.Context(), args)
				if err != nil {
					return err
				}
				defer l.Close()
				return writeEntries(cmd.Context(), cmd.OutOrStdout(), l, keep, format)
			},
		}
		cmd.Flags().StringSliceVar(&states, "state", nil, "only messages in this `STATE` (pending, sending, sent, invalid, failed-retryable, failed-permanent, rejected-content)")
		cmd.Flags().StringVar(&format, "format", format, "output format: table, jsonl or csv")
		return cmd
	}
}

// pollSummary is the result of `ledger status`.
type pollSummary struct {
	Polled     int            `json:"polled"`
	Failed     int            `json:"failed"`
	Limited    int            `json:"limited"` // not polled: 4 polls in the last 24 h
	Terminal   int            `json:"terminal"`
	NoEndpoint int            `json:"noEndpoint"`
	NextPoll   time.Time      `json:"nextPoll,omitzero"` // the earliest a limited message may be polled
	ByStatus   map[string]int `json:"byStatus"`
}

func newLedgerStatus() *cobra.Command {
	var baseURL, apiKey string
	var states []string
	var asJSON, again bool
	var concurrency int
	cmd := &cobra.Command{
		Use:   "status LEDGER",
		Short: "Refresh the delivery status of every message in a ledger, within the polling limit",
		Long: `status asks the service for the delivery status of every message of the ledger
that has a status endpoint (by default those sent) and stores the answer in the
ledger, for gpdoc ledger list and export.

The service asks clients to poll a message at most 4 times a day: the ledger
records when each message was polled, and a message polled 4 times in the last
24 hours is left for later (the summary says when). A message whose status is
terminal (COMPLETED, REJECTED, EXPIRED) is not polled again unless --again.
--concurrency requests are in flight at once (default 4).

Exit status: 0 every poll answered, 1 some poll failed, 2 usage or set-up error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ledgeropen.IsPostgres(args[0]) {
				return usageError("ledger status keeps poll records in SQLite ledgers only; a PostgreSQL ledger has none yet (docs/scale-out.md)")
			}
			if len(states) == 0 {
				states = []string{string(ledger.Sent)}
			}
			keep, err := stateFilter(states)
			if err != nil {
				return err
			}
			if concurrency < 1 {
				return usageError("--concurrency must be at least 1")
			}
			if apiKey == "" {
				apiKey = os.Getenv("CONNEQT_API_KEY")
			}
			if apiKey == "" {
				return usageError("no API key: set CONNEQT_API_KEY or --api-key")
			}
			if baseURL == "" {
				baseURL = os.Getenv("CONNEQT_URL")
			}
			log, err := newLogger(&lockedWriter{w: cmd.ErrOrStderr()}, resources.logLevel, resources.logFormat, false)
			if err != nil {
				return err
			}
			l, err := openLedgerFile(ctx, args[0], false)
			if err != nil {
				return err
			}
			defer l.Close()
			var client *transport.Client
			defer func() {
				if client != nil {
					client.Close()
				}
			}()
			sum := pollSummary{ByStatus: map[string]int{}}
			var mu sync.Mutex // guards sum
			count := func(status string, n *int) {
				mu.Lock()
				defer mu.Unlock()
				if status == "" {
					status = "unknown"
				}
				sum.ByStatus[status]++
				if n != nil {
					*n++
				}
			}
			now := time.Now()
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(concurrency)
			// poll asks for one message's status and records the poll.
			poll := func(e ledger.Entry, known string) error {
				st, perr := client.Status(gctx, e.StatusEndpoint)
				var got *ledger.StatusRecord
				if perr == nil {
					got = &ledger.StatusRecord{Status: st.Status, SubStatus: st.SubStatus, Reason: st.Reason}
				}
				if perr != nil && gctx.Err() != nil {
					return gctx.Err() // stopped: this request does not count
				}
				// Every request counts against the limit, answered or not.
				if err := l.RecordPoll(context.WithoutCancel(gctx), e.MessageID, time.Now(), got); err != nil {
					return err
				}
				if perr != nil {
					count(known, &sum.Failed)
					log.Warn("status poll failed", "line", e.Line, "messageId", e.MessageID, "error", nhsnumber.Redact(perr.Error()))
					if errors.Is(perr, conneqt.ErrUnauthorized) {
						return withCode(exitFailed, fmt.Errorf("the service refuses the API key: %w", perr))
					}
					return nil
				}
				count(st.Status, &sum.Polled)
				return nil
			}
			err = l.List(gctx, func(e ledger.Entry) error {
				if !keep(e.State) {
					return nil
				}
				if e.StatusEndpoint == "" {
					mu.Lock()
					sum.NoEndpoint++
					mu.Unlock()
					return nil
				}
				rec, err := l.Status(gctx, e.MessageID)
				if err != nil {
					return err
				}
				if rec.Status != "" && (&transport.MessageStatus{Status: rec.Status}).Terminal() && !again {
					count(rec.Status, &sum.Terminal)
					return nil
				}
				if next := rec.NextPoll(now); next.After(now) {
					count(rec.Status, &sum.Limited)
					mu.Lock()
					if sum.NextPoll.IsZero() || next.Before(sum.NextPoll) {
						sum.NextPoll = next
					}
					mu.Unlock()
					return nil
				}
				if client == nil {
					base := baseURL
					if base == "" {
						u, err := url.Parse(e.StatusEndpoint)
						if err != nil || u.Host == "" {
							return usageError("status endpoint %q is not an absolute URL: give --url", e.StatusEndpoint)
						}
						base = u.Scheme + "://" + u.Host
					}
					if client, err = transport.New(transport.Options{BaseURL: base, APIKey: apiKey, Logger: log, MaxConcurrent: concurrency}); err != nil {
						return withCode(exitUsage, err)
					}
				}
				g.Go(func() error { return poll(e, rec.Status) })
				return gctx.Err()
			})
			if werr := g.Wait(); werr != nil && (err == nil || errors.Is(err, context.Canceled)) {
				err = werr
			}
			if err != nil {
				var ee *exitError
				if errors.As(err, &ee) {
					return err
				}
				return withCode(exitFailed, err)
			}
			if err := printPollSummary(cmd.OutOrStdout(), sum, asJSON); err != nil {
				return err
			}
			if sum.Failed > 0 {
				return withCode(exitFailed, nil)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&baseURL, "url", "", "conneQt base URL (env CONNEQT_URL; default: each endpoint's own scheme and host)")
	fl.StringVar(&apiKey, "api-key", "", "conneQt ApiKey (env CONNEQT_API_KEY)")
	fl.StringSliceVar(&states, "state", nil, "poll messages in this `STATE` (default sent)")
	fl.BoolVar(&again, "again", false, "poll messages whose status is terminal too")
	fl.IntVar(&concurrency, "concurrency", 4, "status requests in flight at once")
	fl.BoolVar(&asJSON, "json", false, "print the summary as one JSON object")
	return cmd
}

func printPollSummary(w io.Writer, s pollSummary, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(s)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "polled\t%d\n", s.Polled)
	fmt.Fprintf(tw, "poll failed\t%d\n", s.Failed)
	fmt.Fprintf(tw, "terminal, not polled\t%d\n", s.Terminal)
	if s.Limited > 0 {
		fmt.Fprintf(tw, "left for later (4 polls a day)\t%d, next from %s\n", s.Limited, s.NextPoll.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(tw, "left for later (4 polls a day)\t0\n")
	}
	if s.NoEndpoint > 0 {
		fmt.Fprintf(tw, "no status endpoint\t%d\n", s.NoEndpoint)
	}
	keys := make([]string, 0, len(s.ByStatus))
	for k := range s.ByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(tw, "status %s\t%d\n", k, s.ByStatus[k])
	}
	return tw.Flush()
}
