package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/ledger"
	"github.com/gpdoc/gpdoc/ledger/sqlite"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/transport"
)

func init() {
	addCommand(func() *cobra.Command {
		var ledgerPath, baseURL, apiKey string
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "status ID-OR-URL",
			Short: "Show one message's delivery status",
			Long: `status asks the service for one message's status. Give the status endpoint URL
a send returned, or a messageId or sourceId with --ledger: the ledger holds the
status endpoint (gpdoc never builds one: the service's pages disagree on its
shape). The service asks clients to poll at most 4 times a day per message.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				arg := args[0]
				ctx := cmd.Context()
				endpoint := ""
				var entry *ledger.Entry
				if strings.Contains(arg, "/") {
					endpoint = arg
				} else {
					if ledgerPath == "" {
						return usageError("%q is not a URL: give the status endpoint, or --ledger to look the id up", arg)
					}
					l, err := sqlite.Open(ctx, ledgerPath, sqlite.Options{ReadOnly: true})
					if err != nil {
						return withCode(exitUsage, err)
					}
					defer l.Close()
					e, err := l.Get(ctx, arg)
					if errors.Is(err, ledger.ErrNotFound) {
						e, err = l.Get(ctx, manifest.DeriveMessageID(arg)) // a sourceId
					}
					if err != nil {
						return withCode(exitFailed, err)
					}
					entry = &e
					if e.StatusEndpoint == "" {
						printEntry(cmd, entry, nil, asJSON)
						return withCode(exitFailed, fmt.Errorf("message %s is %s: the service has given no status endpoint for it", e.MessageID, e.State))
					}
					endpoint = e.StatusEndpoint
				}
				if apiKey == "" {
					apiKey = os.Getenv("CONNEQT_API_KEY")
				}
				if baseURL == "" {
					u, err := url.Parse(endpoint)
					if err != nil || u.Host == "" {
						return usageError("%q is not an absolute URL: give --url", endpoint)
					}
					baseURL = u.Scheme + "://" + u.Host
				}
				c, err := transport.New(transport.Options{BaseURL: baseURL, APIKey: apiKey, Logger: commandLogger(cmd.ErrOrStderr())})
				if err != nil {
					return withCode(exitUsage, err)
				}
				defer c.Close()
				st, err := c.Status(ctx, endpoint)
				if err != nil {
					return withCode(exitFailed, err)
				}
				return printEntry(cmd, entry, st, asJSON)
			},
		}
		fl := cmd.Flags()
		fl.StringVar(&ledgerPath, "ledger", "", "ledger `FILE` to look a messageId or sourceId up in")
		fl.StringVar(&baseURL, "url", os.Getenv("CONNEQT_URL"), "conneQt base URL (default: the endpoint's own scheme and host)")
		fl.StringVar(&apiKey, "api-key", "", "conneQt ApiKey (env CONNEQT_API_KEY)")
		fl.BoolVar(&asJSON, "json", false, "print JSON")
		return cmd
	})
}

// printEntry prints what the ledger and the service say about a message,
// redacted (internal/redact): the service's reason may name the patient.
func printEntry(cmd *cobra.Command, e *ledger.Entry, st *transport.MessageStatus, asJSON bool) error {
	var buf bytes.Buffer
	if err := writeEntry(&buf, e, st, asJSON); err != nil {
		return err
	}
	out := buf.Bytes()
	if asJSON {
		out = redact.JSON(out)
	} else {
		out = []byte(redact.String(string(out)))
	}
	_, err := cmd.OutOrStdout().Write(out)
	return err
}

func writeEntry(out io.Writer, e *ledger.Entry, st *transport.MessageStatus, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Ledger *ledger.Entry            `json:"ledger,omitempty"`
			Status *transport.MessageStatus `json:"status,omitempty"`
		}{e, st})
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	if e != nil {
		fmt.Fprintf(tw, "messageId\t%s\n", e.MessageID)
		if e.SourceID != "" {
			fmt.Fprintf(tw, "sourceId\t%s\n", e.SourceID)
		}
		fmt.Fprintf(tw, "ledger state\t%s (%d attempt(s), manifest line %d, updated %s)\n", e.State, e.Attempts, e.Line, e.Updated.Format("2006-01-02 15:04:05Z07:00"))
		if len(e.Problem) > 0 {
			fmt.Fprintf(tw, "last problem\t%s\n", e.Problem)
		}
	}
	if st != nil {
		if e == nil && st.MessageID != "" {
			fmt.Fprintf(tw, "messageId\t%s\n", st.MessageID)
		}
		fmt.Fprintf(tw, "status\t%s\n", st.Status)
		if st.SubStatus != "" {
			fmt.Fprintf(tw, "sub-status\t%s\n", st.SubStatus)
		}
		if st.Type != "" {
			fmt.Fprintf(tw, "type\t%s\n", st.Type)
		}
		if st.Reason != "" {
			fmt.Fprintf(tw, "reason\t%s\n", st.Reason)
		}
		if !st.LastUpdated.IsZero() {
			fmt.Fprintf(tw, "last updated\t%s\n", st.LastUpdated.Format("2006-01-02 15:04:05Z07:00"))
		}
		fmt.Fprintf(tw, "terminal\t%v\n", st.Terminal())
	}
	return tw.Flush()
}
