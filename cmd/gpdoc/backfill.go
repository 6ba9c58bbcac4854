package main

import (
	"bytes"
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/backfill"
)

// maxCountBytes is the largest manifest whose lines are counted up front
// for the progress total; larger ones show a count without a total.
const maxCountBytes = 256 << 20

func init() {
	addCommand(func() *cobra.Command {
		var f deliverFlags
		cmd := &cobra.Command{
			Use:   "backfill MANIFEST",
			Short: "Send every message of a JSON Lines manifest, exactly once, resumably",
			Long: `backfill reads a JSON Lines manifest as a stream, runs every message through
gpdoc's pipeline with bounded concurrency and sends it (--url, or --sim for the
built-in simulator), or writes it to a folder (--dry-run DIR).

A ledger (an SQLite file, default MANIFEST.ledger.db) records every message's
state, so the same command can be run again after an interruption or crash:
messages already sent, invalid or rejected are skipped, the rest are tried
again, and a message whose send was cut short is sent again with the same
messageId, which the service de-duplicates.

Give - to read the manifest from standard input (attachment paths then
resolve against the current folder, and --ledger must name the ledger).

Before sending, the pre-flight check (gpdoc check) tests the service, the API
key, the access token and the manifest's topics, and stops with the verdicts if
one fails (--no-check skips it). A run stops after --max-consecutive-failures
(default 5) authentication or connection failures in a row, leaving the lines
it has not sent untouched for the next run. Every invalid, failed or
conflicting message gets a line on standard error (-q silences them); the
summary names the most frequent problems and where the ledger and report are.

The first Ctrl-C stops taking new messages and gives those in flight up to
--grace (2s) to finish, then abandons them; a second abandons them at once.
An abandoned message is resumed, with the same bytes, by the next run. Exit status: 0 all sent or skipped, 1 some message
invalid or failed, 2 usage or set-up error, 130 interrupted.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				path := args[0]
				if path == "-" {
					// Standard input: paths resolve against the current
					// folder, and the line count is not known up front.
					return f.deliver(cmd, path, cmd.InOrStdin(), -1)
				}
				in, err := os.Open(path)
				if err != nil {
					return withCode(exitUsage, err)
				}
				defer in.Close()
				total := int64(-1)
				if f.progress != "none" {
					total, _ = backfill.CountLines(path, maxCountBytes)
				}
				return f.deliver(cmd, path, in, total)
			},
		}
		f.register(cmd)
		return cmd
	})
	addCommand(func() *cobra.Command {
		var f deliverFlags
		cmd := &cobra.Command{
			Use:   "send MESSAGE.json",
			Short: "Send one message (a manifest line, which may span several lines), exactly once",
			Long: `send runs one message through gpdoc's pipeline and sends it, with the same
flags and exit status as backfill, and prints its messageId, outcome and status
endpoint (--json: one JSON object). MESSAGE.json holds one message in the
manifest's format; it may be pretty-printed.

The ledger of every message sent this way is kept in the user's state
directory ($XDG_STATE_HOME/gpdoc/send.ledger.db, by default
~/.local/state/gpdoc/send.ledger.db) unless --ledger names another, so sending
the same file again sends nothing twice.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				path := args[0]
				raw, err := os.ReadFile(path)
				if err != nil {
					return withCode(exitUsage, err)
				}
				// One manifest line: compact the JSON. A file that is not
				// JSON is passed on as it is, for the manifest reader to
				// report.
				var line bytes.Buffer
				if err := json.Compact(&line, raw); err != nil {
					line.Reset()
					line.Write(bytes.ReplaceAll(bytes.TrimSpace(raw), []byte("\n"), []byte(" ")))
				}
				line.WriteByte('\n')
				return f.deliver(cmd, path, bytes.NewReader(line.Bytes()), 1)
			},
		}
		f.register(cmd)
		f.ops.stateLedger = true
		cmd.Flags().Lookup("ledger").Usage = "ledger database `FILE` (default $XDG_STATE_HOME/gpdoc/send.ledger.db, ~/.local/state/gpdoc/ if unset)"
		cmd.Flags().Lookup("progress").DefValue = "none"
		cmd.Flags().Set("progress", "none")
		return cmd
	})
}
