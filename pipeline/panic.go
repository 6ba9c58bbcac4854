package pipeline

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// DefaultDecoders are the package path prefixes of the code that decodes
// untrusted bytes (an attachment's content): a panic that starts in one of
// them is a problem with the file, not a bug in gpdoc. See
// [Runner.Decoders].
var DefaultDecoders = []string{
	"github.com/pdfcpu/pdfcpu/",
	"image.", "image/",
	"golang.org/x/image/",
	"compress/",
	"github.com/gabriel-vasile/mimetype",
	"github.com/gpdoc/gpdoc/internal/jpeg/",
}

// ownCode is the prefix of gpdoc's own functions: a panic whose nearest
// deciding frame is here is gpdoc's bug.
const ownCode = "github.com/gpdoc/gpdoc"

// PanicError is a panic recovered at a stage boundary (the Runner, or
// [Recover]). It keeps the panic's value and the goroutine's stack at the
// panic. Its Error text never holds the stack.
type PanicError struct {
	// Stage is the stage that panicked ("" outside the Runner).
	Stage string
	// Value is what was passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine (runtime/debug.Stack),
	// for logs and bug reports only: it is never part of Error's text.
	Stack []byte
	// Decoder is the package path of the third-party or internal decoder of
	// untrusted bytes the panic started in (see DefaultDecoders), or "" when
	// it started in gpdoc's own code: a bug.
	Decoder string
}

// Error describes the panic as an internal error, without its stack:
// "internal error in stage X: VALUE; please report it", naming the decoder
// it started in, if any. (The Runner reports a decoder's panic in an
// attachment stage as a problem with the file instead.)
func (e *PanicError) Error() string {
	stage := e.Stage
	if stage == "" {
		stage = "(none)"
	}
	if e.Decoder != "" {
		return fmt.Sprintf("internal error in stage %s: %v (panic in %s); please report it", stage, e.Value, e.Decoder)
	}
	return fmt.Sprintf("internal error in stage %s: %v; please report it", stage, e.Value)
}

// Unwrap returns the panic's value when it is an error (a runtime.Error,
// for example), else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Temporary reports false: running the same stage on the same bytes panics
// again, so a panic is never a transient failure (conneqt.Classify reads
// this).
func (e *PanicError) Temporary() bool { return false }

// Recover calls fn and returns its error, or a *PanicError if fn panicked,
// classified against decoders (nil: DefaultDecoders). It is the one place
// gpdoc recovers panics: the Runner calls every stage through it, and a
// pure checking function that must survive hostile bytes outside the
// Runner (validate.CheckMessage) uses it too.
func Recover(decoders []string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if decoders == nil {
				decoders = DefaultDecoders
			}
			err = &PanicError{Value: v, Stack: debug.Stack(), Decoder: panicOrigin(decoders)}
		}
	}()
	return fn()
}

// panicOrigin walks the stack of a panicking goroutine, from the panic
// outwards, to the first frame that is either in a decoder package (it
// returns that package's path) or in gpdoc's own code (it returns "").
// Frames of the runtime and of other libraries (bytes, sort, ...) are
// passed over: they panic on what their caller handed them. It must be
// called from the deferred function that recovers.
func panicOrigin(decoders []string) string {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	inPanic := false
	for {
		f, more := frames.Next()
		switch {
		case !inPanic:
			inPanic = f.Function == "runtime.gopanic"
		case isRuntime(f.Function):
		default:
			for _, d := range decoders {
				if strings.HasPrefix(f.Function, d) {
					return packagePath(f.Function)
				}
			}
			if strings.HasPrefix(f.Function, ownCode) {
				return ""
			}
		}
		if !more {
			return ""
		}
	}
}

func isRuntime(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/runtime/")
}

// packagePath returns the package path of a function name as the runtime
// spells it ("image/jpeg.(*decoder).processSOS" -> "image/jpeg").
func packagePath(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}
