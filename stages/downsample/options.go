package downsample

import (
	"errors"
	"fmt"
	"time"

	"github.com/gpdoc/gpdoc/internal/budget"

	"github.com/gpdoc/gpdoc/conneqt"
)

// Defaults for a zero Options.
const (
	// DefaultMaxBytes is the budget when none is given: the conneQt
	// per-attachment limit.
	DefaultMaxBytes = conneqt.DefaultMaxAttachmentBytes
	// DefaultMinLongEdge keeps a clinical photo readable.
	DefaultMinLongEdge = 1600
	// DefaultMinQuality is the JPEG quality below which the image is scaled
	// down rather than compressed harder.
	DefaultMinQuality = 60
	// DefaultMaxQuality is the highest JPEG quality gpdoc encodes at.
	DefaultMaxQuality = 90
	// DefaultMaxPixels refuses images whose header declares more pixels
	// (100 megapixels), before anything is decoded.
	DefaultMaxPixels = conneqt.DefaultMaxPixels
	// DefaultMaxConcurrentDecodes bounds decoded images held at once: one.
	// A 12 MP photo's coefficients are 36 MB (a 24 MP one's 72 MB) and the
	// fit itself encodes on every core (internal/workers), so a second
	// decode at once doubles the peak memory of a backfill for little
	// speed on two cores (docs/performance-backfill.md).
	DefaultMaxConcurrentDecodes = 1
	// DefaultPDFTimeout bounds one PDF fit: a 5 to 10 MB PDF of scanned
	// pages fits in a few seconds; one that takes a minute is hostile or
	// hopeless.
	DefaultPDFTimeout = time.Minute
	// DefaultMaxPDFDecodeBytes refuses a PDF whose streams (other than
	// images, each of which reserves its own bytes) decode to more than
	// this: the limit pdfcpu is given for one stream in validation.
	DefaultMaxPDFDecodeBytes = 256 << 20
)

// Options configure a Fitter and the stage. The zero value means every
// default.
type Options struct {
	// MaxBytes is the budget in bytes. In the stage, zero means the route's
	// MaxDecodedBytes (the size gate's limit); in the core functions,
	// DefaultMaxBytes.
	MaxBytes int64
	// MinLongEdge is the smallest long edge, in pixels, an image may be
	// scaled to (0: DefaultMinLongEdge). Images already smaller are never
	// scaled.
	MinLongEdge int
	// MinQuality is the JPEG quality floor (0: DefaultMinQuality).
	MinQuality int
	// MaxQuality is the JPEG quality ceiling (0: DefaultMaxQuality).
	MaxQuality int
	// MaxPixels refuses larger images before decoding (0: DefaultMaxPixels).
	MaxPixels int64
	// MaxConcurrentDecodes bounds how many images a Fitter decodes at once
	// (0: DefaultMaxConcurrentDecodes).
	MaxConcurrentDecodes int
	// DecodeBudget is the budget of decoded bytes every decode reserves
	// from before decoding (nil: budget.Process(), shared by the whole
	// process). An image or PDF that needs more than all of it is a
	// problem (ErrOverBudget); one that needs more than is free waits.
	DecodeBudget *budget.Budget
	// PDFTimeout bounds one PDF fit (0: DefaultPDFTimeout); past it the
	// fit fails with ErrTimeout.
	PDFTimeout time.Duration
	// MaxPDFDecodeBytes refuses PDFs whose non-image streams decode to
	// more (0: DefaultMaxPDFDecodeBytes).
	MaxPDFDecodeBytes int64
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxBytes < 0 || o.MinLongEdge < 0 || o.MinQuality < 0 || o.MaxQuality < 0 || o.MaxPixels < 0 || o.MaxConcurrentDecodes < 0 ||
		o.PDFTimeout < 0 || o.MaxPDFDecodeBytes < 0 {
		return o, errors.New("downsample: options must not be negative")
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MinLongEdge == 0 {
		o.MinLongEdge = DefaultMinLongEdge
	}
	if o.MinQuality == 0 {
		o.MinQuality = DefaultMinQuality
	}
	if o.MaxQuality == 0 {
		o.MaxQuality = DefaultMaxQuality
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxConcurrentDecodes == 0 {
		o.MaxConcurrentDecodes = DefaultMaxConcurrentDecodes
	}
	if o.PDFTimeout == 0 {
		o.PDFTimeout = DefaultPDFTimeout
	}
	if o.MaxPDFDecodeBytes == 0 {
		o.MaxPDFDecodeBytes = DefaultMaxPDFDecodeBytes
	}
	if o.MinQuality > 100 || o.MaxQuality > 100 || o.MinQuality > o.MaxQuality {
		return o, fmt.Errorf("downsample: need 1 <= MinQuality (%d) <= MaxQuality (%d) <= 100", o.MinQuality, o.MaxQuality)
	}
	return o, nil
}
