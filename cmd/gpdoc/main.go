// Command gpdoc prepares clinical documents and delivers them to a patient's
// GP practice through the conneQt messaging API.
//
// Run `gpdoc --help` for the commands. Each command lives in its own file of
// this package and registers itself with addCommand in an init function, so
// that commands can be added without touching this file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/redact"
	"github.com/gpdoc/gpdoc/stages/downsample"
)

// Exit codes, shared by every command.
const (
	exitOK          = 0
	exitFailed      = 1   // some message ended invalid or failed
	exitUsage       = 2   // bad flags, arguments or set-up
	exitInterrupted = 130 // stopped by SIGINT/SIGTERM
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that gpdoc exits with code. A nil err with a non-zero
// code exits silently (the command has already said why).
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageError is a set-up or usage error (exit 2).
func usageError(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

var commands []func() *cobra.Command

// addCommand registers a sub-command constructor; call it from init.
func addCommand(c func() *cobra.Command) { commands = append(commands, c) }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "gpdoc",
		Short: "Prepare clinical documents and deliver them to GP practices through conneQt",
		Long: `gpdoc turns a sending system's documents (PDFs, photos, text notes, SNOMED-coded
readings) into conneQt messages that GP systems accept, and delivers them on the
standard, instant or GP Connect route without losing or duplicating any.

Input is a JSON Lines manifest: one message a line, in the API's own JSON, where
an attachment may give a "path" instead of "content". See README.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       readBuildInfo().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	for _, c := range commands {
		root.AddCommand(c())
	}
	resources.register(root)
	return root
}

// resourceFlags are the resource limits every command shares.
type resourceFlags struct {
	decodeBudget string
	imageDecodes int
	pdfTimeout   time.Duration
	memoryLimit  string
	logLevel     string // --log-level, for every command's log records
	logFormat    string // --log-format
}

// DefaultMemoryLimit is --memory-limit's default: the Go runtime's soft
// memory limit (runtime/debug.SetMemoryLimit). Without one the garbage
// collector lets the heap grow to twice what is live before it collects, so
// a backfill whose in-flight documents and decodes hold 130 MB peaks at
// 300 MB; with it the collector runs sooner as the heap nears the limit. It
// is soft: work that needs more memory still gets it (the collector's CPU
// is then capped), nothing is refused. GOMEMLIMIT, when set, replaces the
// default.
const DefaultMemoryLimit = "100MiB"

// resources holds the root command's resource flags once parsed.
var resources resourceFlags

func (l *resourceFlags) register(root *cobra.Command) {
	fl := root.PersistentFlags()
	fl.StringVar(&l.decodeBudget, "decode-budget", budget.Human(budget.DefaultSize),
		"memory all decodes of images and PDF streams share at once, e.g. 1GiB; an attachment that needs more is a problem")
	fl.IntVar(&l.imageDecodes, "image-decodes", downsample.DefaultMaxConcurrentDecodes,
		"images the downsample stage decodes at once (to fit them or turn them upright); each holds its coefficients, 36 MB for a 12 MP photo: raise it on a machine with more cores and memory to spare for a backlog of photos")
	fl.DurationVar(&l.pdfTimeout, "pdf-timeout", downsample.DefaultPDFTimeout, "longest time shrinking one PDF may take")
	memDefault := DefaultMemoryLimit
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		memDefault = "" // the runtime has read GOMEMLIMIT
	}
	fl.StringVar(&l.logLevel, "log-level", "info", "log level on standard error: debug (every request), info, warn or error")
	fl.StringVar(&l.logFormat, "log-format", "text", "log format on standard error: text or json")
	fl.StringVar(&l.memoryLimit, "memory-limit", memDefault,
		"soft limit on the Go heap: garbage is collected sooner as memory nears it (GOMEMLIMIT replaces the default; \"\" leaves the runtime's)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if _, err := newLogger(io.Discard, l.logLevel, l.logFormat, false); err != nil {
			return err
		}
		if l.memoryLimit != "" {
			n, err := humanize.ParseBytes(strings.ReplaceAll(l.memoryLimit, " ", ""))
			if err != nil || n < 16<<20 || n > 1<<50 {
				return usageError("--memory-limit must be a size of at least 16MiB, such as 100MiB or 1GB, not %q", l.memoryLimit)
			}
			debug.SetMemoryLimit(int64(n))
		}
		n, err := humanize.ParseBytes(strings.ReplaceAll(l.decodeBudget, " ", ""))
		if err != nil || n == 0 || n > 1<<50 {
			return usageError("--decode-budget must be a size such as 512MiB or 2GB, not %q", l.decodeBudget)
		}
		if l.imageDecodes < 1 {
			return usageError("--image-decodes must be at least 1, not %d", l.imageDecodes)
		}
		if l.pdfTimeout <= 0 {
			return usageError("--pdf-timeout must be positive, not %v", l.pdfTimeout)
		}
		budget.SetProcessSize(int64(n))
		return nil
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the exit code.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "gpdoc:", redact.String(ee.err.Error()))
		}
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "gpdoc: interrupted")
		return exitInterrupted
	}
	// Errors from cobra itself (unknown command, bad flag) are usage errors.
	fmt.Fprintln(os.Stderr, "gpdoc:", redact.String(err.Error()))
	return exitUsage
}
