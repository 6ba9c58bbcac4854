// Package budget is gpdoc's process-wide budget of decoded bytes: every
// stage that decodes an image or a PDF's streams reserves the bytes the
// decoded form will take before it decodes, and gives them back after. A
// reservation that does not fit now waits (honouring its context) until
// others are released; one larger than the whole budget fails at once with
// an *OverError, which the stages turn into a problem naming the
// attachment, never an out-of-memory crash.
//
// The budget is a weighted semaphore (golang.org/x/sync/semaphore) in
// bytes. [Process] is the one shared by the whole process; its size is
// [DefaultSize] unless [SetProcessSize] changes it before work starts (the
// CLI's --decode-budget flag). Stages take a *Budget in their options, and
// nil means Process().
package budget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultSize is the process-wide budget when none is set: 512 MiB. It
// admits a 100-megapixel 8-bit RGBA PNG (400 MB decoded) or a 50-megapixel
// JPEG (coefficients and pixels), one at a time, and refuses a 16-bit
// RGBA PNG over 67 megapixels; smaller decodes share it.
const DefaultSize int64 = 512 << 20

// ErrOverBudget is matched (errors.Is) by an *OverError: a single
// reservation larger than the whole budget.
var ErrOverBudget = errors.New("over the decode budget")

// OverError says what asked for more bytes than the budget holds.
type OverError struct {
	What   string // what was to be decoded, e.g. "16-bit RGBA PNG of 10000×9999 pixels"
	Need   int64  // bytes asked for
	Budget int64  // the whole budget
}

// Error says what, how much and the budget.
func (e *OverError) Error() string {
	return fmt.Sprintf("decoding the %s needs %s, more than gpdoc's decode budget of %s", e.What, Human(e.Need), Human(e.Budget))
}

// Unwrap returns ErrOverBudget.
func (e *OverError) Unwrap() error { return ErrOverBudget }

// Budget is a number of bytes shared by concurrent decodes. It is safe for
// concurrent use.
type Budget struct {
	size int64
	sem  *semaphore.Weighted
}

// New returns a budget of size bytes (size <= 0 means DefaultSize).
func New(size int64) *Budget {
	if size <= 0 {
		size = DefaultSize
	}
	return &Budget{size: size, sem: semaphore.NewWeighted(size)}
}

// Size returns the budget's size in bytes.
func (b *Budget) Size() int64 { return b.size }

// Acquire reserves n bytes for decoding what (used in the error), waiting
// until they are free or ctx is done. It returns the function that gives
// them back (call it exactly once), an *OverError when n is larger than the
// whole budget, or ctx's error. n <= 0 reserves nothing.
func (b *Budget) Acquire(ctx context.Context, n int64, what string) (release func(), err error) {
	if n <= 0 {
		return func() {}, ctx.Err()
	}
	if n > b.size {
		return nil, &OverError{What: what, Need: n, Budget: b.size}
	}
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { b.sem.Release(n) }) }, nil
}

// Check returns an *OverError if n bytes could never be reserved, without
// reserving anything.
func (b *Budget) Check(n int64, what string) error {
	if n > b.size {
		return &OverError{What: what, Need: n, Budget: b.size}
	}
	return nil
}

var (
	processMu sync.Mutex
	process   = New(DefaultSize)
)

// Process returns the budget shared by the whole process.
func Process() *Budget {
	processMu.Lock()
	defer processMu.Unlock()
	return process
}

// SetProcessSize replaces the process-wide budget with one of size bytes
// (<= 0: DefaultSize). Call it before any work starts: reservations held
// on the old budget are returned to the old one.
func SetProcessSize(size int64) {
	processMu.Lock()
	defer processMu.Unlock()
	process = New(size)
}

// Or returns b, or Process() when b is nil.
func Or(b *Budget) *Budget {
	if b != nil {
		return b
	}
	return Process()
}

// BytesPerPixel is the size of one pixel of the form Go's decoders produce
// for colour model m: 8 for 16-bit colour, 2 for 16-bit grey, 1 for grey
// and palettes, 3 for YCbCr (4:4:4 at most) and 4 for everything else.
func BytesPerPixel(m color.Model) int64 {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// ImageBytes is the decoded size of an image with header cfg.
func ImageBytes(cfg image.Config) int64 {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0
	}
	return int64(cfg.Width) * int64(cfg.Height) * BytesPerPixel(cfg.ColorModel)
}

// ImageCost reads an image's header (image.DecodeConfig, so the format's
// decoder must be registered) and returns the header and the bytes its
// decoded form takes: width × height × [BytesPerPixel], where a PNG's
// bytes per pixel follow its IHDR bit depth and colour type (a 16-bit RGBA
// PNG is 8 bytes a pixel; a grey or truecolour PNG with a tRNS chunk
// decodes with an alpha channel, 4 or 8) and an interlaced PNG counts
// twice (Go's decoder holds the passes and the result). The description
// names the image for an *OverError.
func ImageCost(data []byte) (cfg image.Config, format string, n int64, what string, err error) {
	cfg, format, err = image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, format, 0, "", err
	}
	bpp := BytesPerPixel(cfg.ColorModel)
	depth := 8
	if format == "png" && len(data) >= 33 {
		depth = int(data[24])
		colourType := data[25]
		if colourType == 0 || colourType == 2 { // grey, truecolour
			if i := bytes.Index(data, []byte("IDAT")); i > 0 && bytes.Contains(data[:i], []byte("tRNS")) {
				bpp = max(bpp, 4)
				if depth == 16 {
					bpp = 8
				}
			}
		}
		if data[28] == 1 { // Adam7
			bpp *= 2
		}
	}
	n = int64(max(cfg.Width, 0)) * int64(max(cfg.Height, 0)) * bpp
	what = fmt.Sprintf("%d×%d-pixel %s image", cfg.Width, cfg.Height, describe(format, depth))
	return cfg, format, n, what, nil
}

func describe(format string, depth int) string {
	f := map[string]string{"png": "PNG", "jpeg": "JPEG", "gif": "GIF"}[format]
	if f == "" {
		f = format
	}
	if format == "png" && depth == 16 {
		return "16-bit " + f
	}
	return f
}

// Human formats n bytes for a person: "800.0 MB", "512 MiB".
func Human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d bytes", n)
}
