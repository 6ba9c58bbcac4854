package validate

import (
	"errors"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// DefaultMaxPixels is the pixel budget of an image (width × height), also
// applied to images embedded in PDFs: conneqt.DefaultMaxPixels. Images
// declaring more are refused before anything decodes them.
const DefaultMaxPixels = conneqt.DefaultMaxPixels

// Options configures the checks. The zero value checks against the route's
// own rules at the current time. The size limit is the route's
// (conneqt.Route.MaxDecodedBytes): clone the route to change it.
type Options struct {
	// MaxPixels is the pixel budget of images (<= 0: DefaultMaxPixels).
	MaxPixels int64
	// Topics, when not empty, lists the topics the service offers; the
	// message's topic must be one of them.
	Topics []string
	// Now returns the current time (nil: time.Now). Expiry and date-of-
	// birth checks are relative to it.
	Now func() time.Time

	// exact is set by CheckMessage: the message is checked exactly as it
	// is, as the service would. The Stage leaves it false: it checks its
	// document as gpdoc's input (see the package documentation).
	exact bool
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels > 0 {
		return o.MaxPixels
	}
	return DefaultMaxPixels
}

func (o Options) check() error {
	if o.MaxPixels < 0 {
		return errors.New("validate: MaxPixels is negative")
	}
	for _, t := range o.Topics {
		if t == "" {
			return errors.New("validate: Topics holds an empty topic")
		}
	}
	return nil
}
