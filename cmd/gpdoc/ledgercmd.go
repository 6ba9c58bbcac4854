package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/backfill"
	"github.com/gpdoc/gpdoc/ledger"
)

func init() {
	addCommand(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "ledger",
			Short: "Inspect a backfill ledger",
		}
		var asJSON bool
		stats := &cobra.Command{
			Use:   "stats [LEDGER]",
			Short: "Count a ledger's messages by state (and, on PostgreSQL, per worker)",
			Long: `stats counts a ledger's messages by state. LEDGER is an SQLite file or a
postgres:// URL (default $GPDOC_LEDGER; the password is never printed). On a
ledger shared by many workers it also shows each worker: its host and process,
when it was last heard from, its messages by state, the leases it holds and
what it sent and finished in the last minute, and the fleet's send rate.`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				l, err := openReadOnly(cmd.Context(), args)
				if err != nil {
					return err
				}
				defer l.Close()
				s, err := l.Stats(cmd.Context())
				if err != nil {
					return withCode(exitFailed, err)
				}
				var fleet *ledger.Fleet
				if fs, ok := l.(ledger.FleetStater); ok {
					f, err := fs.FleetStats(cmd.Context())
					if err != nil {
						return withCode(exitFailed, err)
					}
					fleet = &f
				}
				return writeStats(cmd.OutOrStdout(), s, fleet, backfill.LeaseTTL(l), asJSON)
			},
		}
		stats.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		cmd.AddCommand(stats)
		for _, c := range ledgerCommands { // ledgerlist.go
			cmd.AddCommand(c())
		}
		return cmd
	})
}

// writeStats prints a ledger's counts, and its fleet if it has one.
// A worker counts as live if it holds a lease or was heard from within
// ttl (the lease TTL of this handle: the default unless the workers use
// another).
func writeStats(out io.Writer, s ledger.Stats, fleet *ledger.Fleet, ttl time.Duration, asJSON bool) error {
	if asJSON {
		m := map[string]any{"total": s.Total()}
		for _, st := range ledger.States {
			m[string(st)] = s[st]
		}
		if fleet != nil {
			m["fleet"] = fleet
			m["liveWorkers"] = backfill.LiveWorkers(*fleet, ttl)
			m["sendRatePerSecond"] = fleet.SendRate()
		}
		return json.NewEncoder(out).Encode(m)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, st := range ledger.States {
		fmt.Fprintf(tw, "%s\t%d\t\n", st, s[st])
	}
	fmt.Fprintf(tw, "total\t%d\t\n", s.Total())
	if err := tw.Flush(); err != nil {
		return err
	}
	if fleet == nil {
		return nil
	}
	fmt.Fprintf(out, "\nworkers: %d live of %d; %d leases held; last minute: %d sent (%.1f/s), %d finished\n\n",
		backfill.LiveWorkers(*fleet, ttl), len(fleet.Workers), fleet.Leased, fleet.SentLastMinute, fleet.SendRate(), fleet.FinishedLastMinute)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tHOST\tPID\tLAST SEEN\tSENT\tOTHER\tLEASED\tSENT/MIN\tFINISHED/MIN")
	for _, w := range fleet.Workers {
		seen := "-"
		if !w.Seen.IsZero() {
			seen = fleet.At.Sub(w.Seen).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d\n", w.Worker, w.Host, w.PID, seen,
			w.States[ledger.Sent], w.States.Total()-w.States[ledger.Sent], w.Leased, w.SentLastMinute, w.FinishedLastMinute)
	}
	return tw.Flush()
}
