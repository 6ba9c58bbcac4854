package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/pipeline/manifest"
	"github.com/gpdoc/gpdoc/stages"
	"github.com/gpdoc/gpdoc/stages/downsample"
	"github.com/gpdoc/gpdoc/stages/sanitise"
	"github.com/gpdoc/gpdoc/stages/sizegate"
	"github.com/gpdoc/gpdoc/stages/validate"
)

func init() { addCommand(newValidateCommand) }

type validateFlags struct {
	json        bool
	sanitise    bool
	downsample  bool
	limits      limitFlags
	maxPixels   int64
	topics      []string
	concurrency int
	allowPaths  []string
}

func newValidateCommand() *cobra.Command {
	var f validateFlags
	cmd := &cobra.Command{
		Use:   "validate MANIFEST",
		Short: "Check every message of a manifest and print every problem",
		Long: `validate reads a manifest (JSON Lines; "-" reads standard input) and runs
every message through gpdoc's pipeline short of sending: validate, sanitise,
render (the consultation report and its checks against the message),
downsample, the size gate and assembly, exactly as backfill and send do, but
without sending, writing or keeping a ledger. It prints every problem of every
message, with the API's JSON path, and every malformed line: every problem
"backfill --dry-run" would find.

What the sanitise stage fixes (file names, text encodings, PDF scripts, a
printed NHS number, an identifier type left out) is shown as a change; what
the downsample stage fits (an oversize photo or PDF, a PNG on the instant
route) as a change. --sanitise=false and --downsample=false leave those
stages out and check the messages exactly as they will be sent, as the
service would.

--max-attachment-bytes and --limit-basis set the size limit as they do for
backfill and send.

With --json every message is one line of JSON: its line number, sourceId and
messageId, whether it is valid, and the problems as an RFC 7807 problem
(invalidParameters), as the service would answer.

Exit status: 0 when every message is valid, 1 when any is invalid or a line is
malformed, 2 for a usage error.`,
		Example: `  gpdoc validate testdata/examples/manifest.jsonl
  gpdoc validate --json --sanitise=false outbox.jsonl | jq .`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("validate takes one manifest file (got %d arguments); see gpdoc validate --help", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print one JSON object per message (problem JSON)")
	fl.BoolVar(&f.sanitise, "sanitise", true, "run the sanitise stage: fixable problems become changes (false: they are problems)")
	fl.BoolVar(&f.downsample, "downsample", true, "run the downsample stage: oversize images and PDFs are fitted (false: they are problems)")
	f.limits.register(cmd)
	fl.Int64Var(&f.maxPixels, "max-pixels", 0, fmt.Sprintf("pixel budget per image (0: %d)", validate.DefaultMaxPixels))
	fl.StringSliceVar(&f.topics, "topic", nil, "allowed topic (repeat, or comma-separated); default: any non-empty topic")
	fl.IntVar(&f.concurrency, "concurrency", 0, "messages checked at once (0: one per CPU)")
	addAllowPathFlag(cmd, &f.allowPaths)
	return cmd
}

// pipeline is the pre-flight pipeline: stages.Preflight (everything
// backfill runs but the send), with the sanitise and downsample stages left
// out when their flags say so.
func (f validateFlags) pipeline() (pipeline.Pipeline, error) {
	routes, err := f.limits.routes()
	if err != nil {
		return nil, err
	}
	vo := validate.Options{MaxPixels: f.maxPixels, Topics: f.topics}
	p, err := stages.Preflight(stages.Options{
		Routes:     routes,
		Validate:   vo,
		Sanitise:   sanitise.Options{MaxPixels: f.maxPixels},
		Downsample: downsample.Options{MaxPixels: f.maxPixels, MaxConcurrentDecodes: resources.imageDecodes, PDFTimeout: resources.pdfTimeout},
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	if f.sanitise && f.downsample {
		return p, nil
	}
	if !f.sanitise {
		p = p.Without(sanitise.Name)
	}
	if !f.downsample {
		p = p.Without(downsample.StageName)
	}
	// Without them, the message is checked as it will be sent, exactly as
	// the service would (validate.CheckMessage), before the size gate. What
	// the validate stage already reported is not reported twice.
	exact := pipeline.CollectingProblems(pipeline.MessageFunc("exact", func(_ context.Context, doc *pipeline.Document) error {
		problems, warnings := validate.CheckMessage(doc.Route, doc.Message, vo)
		doc.AddWarning(notIn(doc.Warnings(), warnings)...)
		doc.AddProblem(notIn(doc.Problems(), problems)...)
		return nil
	}))
	return p.InsertBefore(sizegate.Name, exact)
}

// notIn returns the problems (or warnings) of add that are not already in
// have.
func notIn(have, add []conneqt.Problem) []conneqt.Problem {
	var out []conneqt.Problem
	for _, w := range add {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// validateEntry is one printed result, in --json form.
type validateEntry struct {
	Line      int                     `json:"line"`
	SourceID  string                  `json:"sourceId,omitempty"`
	MessageID string                  `json:"messageId,omitempty"`
	Valid     bool                    `json:"valid"`
	Problem   *conneqt.ProblemDetails `json:"problem,omitempty"`
	Error     string                  `json:"error,omitempty"`
	Warnings  []conneqt.Problem       `json:"warnings,omitempty"`
	Changes   []pipeline.Change       `json:"changes,omitempty"`
}

func runValidate(ctx context.Context, stdout, stderr io.Writer, path string, f validateFlags) error {
	if f.maxPixels < 0 || f.concurrency < 0 {
		return usageError("--max-pixels and --concurrency must not be negative")
	}
	preflight, err := f.pipeline()
	if err != nil {
		return err
	}

	allow, err := checkAllowPaths(f.allowPaths)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	baseDir := "."
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return usageError("cannot read the manifest: %v", err)
		}
		defer file.Close()
		in = file
		if abs, err := filepath.Abs(path); err == nil {
			baseDir = filepath.Dir(abs)
		}
	}

	p := newOrderedPrinter(stdout, f.json)
	var mu sync.Mutex
	seqOf := map[*pipeline.Document]int{}
	var readErr error
	docs := iter.Seq[*pipeline.Document](func(yield func(*pipeline.Document) bool) {
		seq := 0
		for l := range manifest.ReadWith(ctx, in, manifest.Options{Dir: baseDir, AllowPaths: allow}) {
			if l.Err != nil {
				if !errors.Is(l.Err, manifest.ErrMalformed) {
					readErr = l.Err
				}
				p.put(seq, validateEntry{Line: l.Number, Error: l.Err.Error()})
				seq++
				continue
			}
			mu.Lock()
			seqOf[l.Doc] = seq
			mu.Unlock()
			seq++
			if !yield(l.Doc) {
				return
			}
		}
	})
	runner := &pipeline.Runner{Stages: preflight, MessageConcurrency: f.concurrency}
	err = runner.Run(ctx, docs, func(doc *pipeline.Document, err error) {
		mu.Lock()
		seq := seqOf[doc]
		delete(seqOf, doc)
		mu.Unlock()
		p.put(seq, entryFor(doc, err))
	})
	if err != nil {
		return err
	}
	if readErr != nil {
		return withCode(exitFailed, readErr)
	}
	valid, invalid, malformed := p.counts()
	summary := fmt.Sprintf("%d message%s: %d valid, %d invalid; %d malformed line%s",
		valid+invalid, plural(valid+invalid), valid, invalid, malformed, plural(malformed))
	if f.json {
		fmt.Fprintln(stderr, summary)
	} else {
		fmt.Fprintln(stdout, summary)
	}
	if invalid > 0 || malformed > 0 {
		return withCode(exitFailed, nil)
	}
	return nil
}

func entryFor(doc *pipeline.Document, err error) validateEntry {
	e := validateEntry{Line: doc.Line, SourceID: doc.SourceID, Valid: err == nil,
		Warnings: doc.Warnings(), Changes: doc.Changes()}
	if doc.Message != nil {
		e.MessageID = doc.Message.MessageID
	}
	var ve *conneqt.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		instance := ""
		if validate.IsUUID(e.MessageID) {
			instance = "urn:uuid:" + e.MessageID
		}
		e.Problem = ve.ProblemDetails(instance)
	default:
		e.Error = err.Error()
	}
	return e
}

// orderedPrinter prints entries in manifest order although documents
// finish in any order.
type orderedPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	next     int
	pending  map[int]validateEntry
	nValid   int
	nInvalid int
	nBadLine int
}

func newOrderedPrinter(w io.Writer, json bool) *orderedPrinter {
	return &orderedPrinter{w: w, json: json, pending: map[int]validateEntry{}}
}

func (p *orderedPrinter) put(seq int, e validateEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pending[seq] = e
	for {
		e, ok := p.pending[p.next]
		if !ok {
			return
		}
		delete(p.pending, p.next)
		p.next++
		p.print(e)
	}
}

func (p *orderedPrinter) counts() (valid, invalid, malformed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nValid, p.nInvalid, p.nBadLine
}

func (p *orderedPrinter) print(e validateEntry) {
	switch {
	case e.Valid:
		p.nValid++
	case e.MessageID == "" && e.SourceID == "" && e.Problem == nil:
		p.nBadLine++
	default:
		p.nInvalid++
	}
	if p.json {
		b, err := json.Marshal(e)
		if err != nil {
			b, _ = json.Marshal(validateEntry{Line: e.Line, Error: "cannot encode the result: " + err.Error()})
		}
		p.w.Write(append(redact.JSON(b), '\n'))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "line %d", e.Line)
	var ids []string
	if e.SourceID != "" {
		ids = append(ids, "sourceId "+e.SourceID)
	}
	if e.MessageID != "" {
		ids = append(ids, "messageId "+e.MessageID)
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(ids, ", "))
	}
	switch {
	case e.Valid:
		b.WriteString(": valid\n")
	case e.Problem != nil:
		n := len(e.Problem.InvalidParameters)
		fmt.Fprintf(&b, ": invalid, %d problem%s\n", n, plural(n))
		for _, pr := range e.Problem.InvalidParameters {
			fmt.Fprintf(&b, "  problem  %s\n", pr)
		}
	case e.MessageID == "" && e.SourceID == "":
		fmt.Fprintf(&b, ": malformed: %s\n", strings.TrimPrefix(e.Error, fmt.Sprintf("line %d: ", e.Line)))
	default:
		fmt.Fprintf(&b, ": failed: %s\n", e.Error)
	}
	for _, w := range e.Warnings {
		fmt.Fprintf(&b, "  warning  %s\n", w)
	}
	for _, c := range e.Changes {
		fmt.Fprintf(&b, "  change   %s\n", describeChange(c))
	}
	io.WriteString(p.w, redact.String(b.String()))
}

func describeChange(c pipeline.Change) string {
	s := c.Name + ": " + c.Action
	if c.Before != "" || c.After != "" {
		s += fmt.Sprintf(" %q -> %q", c.Before, c.After)
	}
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
