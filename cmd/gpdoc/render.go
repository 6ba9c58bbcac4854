package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/stages/render"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(func() *cobra.Command {
		var out string
		var deterministic bool
		var refTime string
		cmd := &cobra.Command{
			Use:   "render CONSULTATION.json -o REPORT.pdf",
			Short: "Render a consultation summary PDF from a consultation object",
			Long: `render writes the consultation summary PDF (the GP Connect Consultation Report)
for one consultation object: the JSON of a manifest line's "consultation" member,
on its own. Use "-" to read it from standard input.

The output is a function of the input alone: the sending date (when the
consultation has no sentDateTime) and the PDF's dates are --reference-time, or
the consultation's own dates without it; the clock is never used.

Problems with the consultation are listed with their JSON paths and gpdoc exits
with status 1.`,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if out == "" {
					return usageError("render: give the output file with -o REPORT.pdf")
				}
				raw, err := readInput(cmd.InOrStdin(), args[0])
				if err != nil {
					return usageError("render: %v", err)
				}
				var ref time.Time
				if refTime != "" {
					if ref, err = time.Parse(time.RFC3339, refTime); err != nil {
						return usageError("render: --reference-time must be an RFC 3339 date and time, e.g. 2026-11-20T16:00:00Z: %v", err)
					}
				}
				stage, err := render.New(render.Options{})
				if err != nil {
					return withCode(exitFailed, err)
				}
				c, err := render.Parse(raw, time.Now())
				if err == nil {
					var rep *render.Report
					if rep, err = stage.Render(cmd.Context(), c, ref); err == nil {
						if err := writeFileAtomic(out, rep.PDF); err != nil {
							return withCode(exitFailed, fmt.Errorf("render: %w", err))
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%s: %d page(s), %d bytes (attachment name %q)\n", out, rep.Pages, len(rep.PDF), rep.FileName)
						if len(rep.Missing) > 0 {
							fmt.Fprintf(cmd.ErrOrStderr(), "gpdoc: render: %d character(s) the font cannot draw were printed as '?'\n", len(rep.Missing))
						}
						return nil
					}
				}
				var ve *conneqt.ValidationError
				if errors.As(err, &ve) {
					for _, p := range ve.Problems {
						fmt.Fprintln(cmd.ErrOrStderr(), "gpdoc: render:", p)
					}
					return withCode(exitFailed, nil)
				}
				return withCode(exitFailed, err)
			},
		}
		cmd.Flags().StringVarP(&out, "output", "o", "", "write the PDF to this file (required)")
		cmd.Flags().StringVar(&refTime, "reference-time", "", "RFC 3339 time used as the sending date when the consultation has none, and as the PDF's dates (default: the consultation's own dates)")
		cmd.Flags().BoolVar(&deterministic, "deterministic", false, "no effect: the output is always deterministic")
		_ = cmd.Flags().MarkDeprecated("deterministic", "the output is always deterministic now")
		return cmd
	})
}

// readInput reads a named file, or standard input for "-", up to 16 MiB.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	const limit = 16 << 20
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", name, limit)
	}
	return b, nil
}

// writeFileAtomic writes data to a temporary file beside name and renames it
// into place, so that a failed run never leaves half a PDF.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".gpdoc-render-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
