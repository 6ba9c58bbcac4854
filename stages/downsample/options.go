package downsample

import (
	"errors"
	"fmt"

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
	// DefaultMaxConcurrentDecodes bounds decoded images held at once.
	DefaultMaxConcurrentDecodes = 2
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
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxBytes < 0 || o.MinLongEdge < 0 || o.MinQuality < 0 || o.MaxQuality < 0 || o.MaxPixels < 0 || o.MaxConcurrentDecodes < 0 {
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
	if o.MinQuality > 100 || o.MaxQuality > 100 || o.MinQuality > o.MaxQuality {
		return o, fmt.Errorf("downsample: need 1 <= MinQuality (%d) <= MaxQuality (%d) <= 100", o.MinQuality, o.MaxQuality)
	}
	return o, nil
}
