package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
)

func init() {
	addCommand(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "ledger",
			Short: "Inspect a backfill ledger",
		}
		var asJSON bool
		stats := &cobra.Command{
			Use:   "stats LEDGER",
			Short: "Count a ledger's messages by state",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if _, err := os.Stat(args[0]); err != nil {
					return withCode(exitUsage, err)
				}
				l, err := sqlite.Open(cmd.Context(), args[0], sqlite.Options{ReadOnly: true})
				if err != nil {
					return withCode(exitUsage, err)
				}
				defer l.Close()
				s, err := l.Stats(cmd.Context())
				if err != nil {
					return withCode(exitFailed, err)
				}
				out := cmd.OutOrStdout()
				if asJSON {
					m := map[string]int{"total": s.Total()}
					for _, st := range ledger.States {
						m[string(st)] = s[st]
					}
					return json.NewEncoder(out).Encode(m)
				}
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
				for _, st := range ledger.States {
					fmt.Fprintf(tw, "%s\t%d\t\n", st, s[st])
				}
				fmt.Fprintf(tw, "total\t%d\t\n", s.Total())
				return tw.Flush()
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
