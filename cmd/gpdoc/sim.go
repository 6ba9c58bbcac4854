package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/transport/conneqttest"
)

func init() {
	addCommand(newSimCommand)
}

func newSimCommand() *cobra.Command {
	var (
		addr          string
		apiKeys       []string
		tokens        []string
		codes         []string
		topics        []string
		faults        conneqttest.Faults
		faultRoutes   []string
		deliverAfter  time.Duration
		completeAfter time.Duration
		verbose       bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve a simulator of the conneQt API on a loopback address",
		Long: `sim serves a simulator of the conneQt messaging API: the three message
endpoints, message status, topics, the connectivity test and the instant
access-token exchange. It validates every message as the service does and
answers with the service's problem JSON. Point gpdoc (or curl) at the URL it
prints, with the API key it prints.

Statistics: GET <url>/_sim/stats. Faults can be injected with the --fail-*
and --drop flags; decisions are deterministic for a --seed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageError("--addr %q: %v", addr, err)
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageError("--addr %q: the simulator serves plain HTTP and listens on loopback only (e.g. 127.0.0.1:8080)", addr)
			}
			for _, r := range faultRoutes {
				rt, err := conneqt.LookupRoute(r)
				if err != nil {
					return usageError("--fail-503-routes: %v", err)
				}
				faults.UnavailableRoutes = append(faults.UnavailableRoutes, rt.Name)
			}
			for _, rate := range []float64{faults.UnavailableRate, faults.ErrorRate, faults.DropRate, faults.AfterStoreRate} {
				if rate < 0 || rate > 1 {
					return usageError("fault rates are fractions between 0 and 1, got %v", rate)
				}
			}
			var logger *slog.Logger
			if verbose {
				logger = slog.New(redact.NewHandler(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
			}
			sim := conneqttest.New(conneqttest.Options{
				APIKeys: apiKeys, AccessTokens: tokens, Topics: topics, Faults: faults,
				DeliverAfter: deliverAfter, CompleteAfter: completeAfter, Logger: logger,
			})
			if len(apiKeys) == 0 {
				apiKeys = []string{sim.APIKey()}
			}
			if len(tokens) == 0 {
				tokens = []string{sim.GrantAccessToken()}
			}
			for _, c := range codes {
				sim.AddAccessCode(c)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usageError("listen on %s: %v", addr, err)
			}
			url := "http://" + ln.Addr().String()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "conneQt simulator listening on %s\n", url)
			fmt.Fprintf(out, "  ApiKey:      %s\n", strings.Join(apiKeys, ", "))
			fmt.Fprintf(out, "  AccessToken: %s (instant messages)\n", strings.Join(tokens, ", "))
			fmt.Fprintf(out, "  stats:       %s/_sim/stats\n", url)
			fmt.Fprintf(out, "Stop with Ctrl-C.\n")

			srv := sim.HTTPServer() // read, header and idle timeouts
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return withCode(exitFailed, err)
			case <-cmd.Context().Done():
			}
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "gpdoc sim: shutdown:", err)
			}
			st := sim.Stats()
			fmt.Fprintf(out, "accepted %d, duplicates %d, rejected %d, faults %d\n", st.Accepted, st.Duplicates, st.Rejected, st.Faults)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "loopback address to listen on (port 0 picks a free port)")
	f.StringSliceVar(&apiKeys, "api-key", nil, "API key to accept (repeatable; default: one random key, printed)")
	f.StringSliceVar(&tokens, "access-token", nil, "AccessToken granted instant messaging (repeatable; default: one random token, printed)")
	f.StringSliceVar(&codes, "access-code", nil, "one-time access code that POST /api/v1/messages/instant/access/token exchanges (valid 60 s)")
	f.StringSliceVar(&topics, "topic", nil, "topic to accept (repeatable; default: "+strings.Join(conneqttest.DefaultTopics, ", ")+")")
	f.Uint64Var(&faults.Seed, "seed", 1, "seed of the fault decisions")
	f.Float64Var(&faults.UnavailableRate, "fail-503", 0, "fraction of valid messages answered 503 (MESH unavailable)")
	f.StringSliceVar(&faultRoutes, "fail-503-routes", nil, "routes the 503s strike (default: gpconnect)")
	f.Float64Var(&faults.ErrorRate, "fail-500", 0, "fraction of valid messages answered 500")
	f.Float64Var(&faults.DropRate, "drop", 0, "fraction of valid messages whose connection is closed without an answer")
	f.Float64Var(&faults.AfterStoreRate, "after-store", 0, "fraction of faults that strike after the message is stored (lost responses)")
	f.StringVar(&faults.RetryAfter, "retry-after", "", "Retry-After header sent with injected 503s and 500s (seconds or an HTTP date)")
	f.DurationVar(&faults.Latency, "latency", 0, "delay added to every answer to a valid message")
	f.DurationVar(&deliverAfter, "deliver-after", 30*time.Second, "time after which an accepted message is DELIVERED (0: never)")
	f.DurationVar(&completeAfter, "complete-after", time.Minute, "time after delivery at which a message is COMPLETED (0: never)")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every message request to stderr")
	return cmd
}
