package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/transport"
)

func init() {
	addCommand(func() *cobra.Command {
		var f connFlags
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "check [MANIFEST]",
			Short: "Check the service, the API key, the access token and the manifest's topics before sending",
			Long: `check runs the pre-flight checks a run needs before it sends anything: the
service's connectivity test, the API key, the access token (when a route the
manifest uses requires one) and the topics the manifest uses. Each check gets a
verdict: pass, fail, note (nothing wrong, but not verifiable before a send) or
skip. Give - to read the manifest from standard input.

Exit status: 0 nothing failed, 1 a check failed, 2 usage or set-up error.`,
			Args: cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var req transport.CheckRequest
				if len(args) == 1 {
					in, closeIn, err := openInput(cmd, args[0])
					if err != nil {
						return err
					}
					defer closeIn()
					req, err = checkRequestOf(in)
					if err != nil {
						return withCode(exitUsage, fmt.Errorf("%s: %w", args[0], err))
					}
				}
				c, closeAll, err := f.open(cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				defer closeAll()
				rep := c.Check(cmd.Context(), req)
				if err := printCheck(cmd.OutOrStdout(), rep, asJSON); err != nil {
					return err
				}
				if !rep.OK() {
					return withCode(exitFailed, nil)
				}
				return nil
			},
		}
		f.register(cmd)
		cmd.Flags().BoolVar(&asJSON, "json", false, "print the verdicts as one JSON object")
		return cmd
	})
}

// openInput opens a file argument, or standard input for "-".
func openInput(cmd *cobra.Command, path string) (io.Reader, func(), error) {
	if path == "-" {
		return cmd.InOrStdin(), func() {}, nil
	}
	in, err := os.Open(path)
	if err != nil {
		return nil, nil, withCode(exitUsage, err)
	}
	return in, func() { in.Close() }, nil
}

// checkRequestOf reads the routes and topics a manifest uses. It reads only
// the route, type and topic of each line (lines up to manifest.MaxLineBytes,
// a byte order mark on the first), and picks the route as the manifest
// reader does; lines it cannot read are left to validate (which reports
// them with their line numbers). Client.Check removes repeats.
func checkRequestOf(r io.Reader) (transport.CheckRequest, error) {
	var req transport.CheckRequest
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), manifest.MaxLineBytes+1)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if len(line) == 0 {
			continue
		}
		var head struct {
			Route string `json:"route"`
			Type  string `json:"type"`
			Topic string `json:"topic"`
		}
		if json.Unmarshal(line, &head) != nil {
			continue
		}
		if rt, err := manifest.PickRoute(head.Route, head.Type); err == nil && !slices.Contains(req.Routes, rt) {
			req.Routes = append(req.Routes, rt)
		}
		if head.Topic != "" && !slices.Contains(req.Topics, head.Topic) {
			req.Topics = append(req.Topics, head.Topic)
		}
	}
	return req, sc.Err()
}

func printCheck(w io.Writer, rep transport.CheckReport, asJSON bool) error {
	if asJSON {
		out := struct {
			OK      bool                    `json:"ok"`
			Results []transport.CheckResult `json:"results"`
		}{rep.OK(), rep.Results}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Name, r.Verdict, r.Detail)
	}
	return tw.Flush()
}
