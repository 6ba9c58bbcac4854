package validate

import (
	"errors"
	"fmt"
	"time"

	"github.com/gpdoc/gpdoc/conneqt"
)

// DefaultMaxPixels is the pixel budget of an image (width × height), also
// applied to images embedded in PDFs: conneqt.DefaultMaxPixels. Images
// declaring more are refused before anything decodes them.
const DefaultMaxPixels = conneqt.DefaultMaxPixels

// Options configures the checks. The zero value is the strict check of a
// final message against the route's own limits at the current time.
type Options struct {
	// MaxAttachmentBytes overrides the route's per-attachment limit
	// (decoded bytes) when > 0. Leave it zero to check against the route's
	// own limit under its basis (conneqt.Route.MaxDecodedBytes), which is
	// what the CLI's --max-attachment-bytes and --limit-basis set.
	MaxAttachmentBytes int64
	// MaxPixels is the pixel budget of images (<= 0: DefaultMaxPixels).
	MaxPixels int64
	// Topics, when not empty, lists the topics the service offers; the
	// message's topic must be one of them.
	Topics []string
	// Now returns the current time (nil: time.Now). Expiry and date-of-
	// birth checks are relative to it.
	Now func() time.Time

	// Downsample says the downsample stage runs later: an oversize image
	// or PDF, and a PNG on a route that takes only JPEG, are then
	// warnings, since that stage fits and converts them.
	Downsample bool
	// Sanitise says the sanitise stage runs later: file names it will fix
	// (reserved characters, leading or trailing dots and spaces, device
	// names, length, a wrong or missing extension, duplicates), text it
	// will convert to UTF-8, an NHS number with spaces, and PDF active
	// content it will remove are then not problems.
	Sanitise bool
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

func (o Options) maxBytes(r *conneqt.Route) int64 {
	if o.MaxAttachmentBytes > 0 {
		return o.MaxAttachmentBytes
	}
	if r != nil && r.MaxDecodedBytes() > 0 {
		return r.MaxDecodedBytes()
	}
	return conneqt.DefaultMaxAttachmentBytes
}

// describeLimit names the limit maxBytes returns, for messages.
func (o Options) describeLimit(r *conneqt.Route) string {
	if o.MaxAttachmentBytes <= 0 && r != nil && r.MaxDecodedBytes() > 0 {
		return r.DescribeLimit()
	}
	return fmt.Sprintf("%d bytes", o.maxBytes(r))
}

func (o Options) check() error {
	if o.MaxAttachmentBytes < 0 {
		return errors.New("validate: MaxAttachmentBytes is negative")
	}
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
