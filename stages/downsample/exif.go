package downsample

import "github.com/gpdoc/gpdoc/internal/jpeg/segment"

// Orientation returns the EXIF orientation (1..8) of a JPEG, or 1 when the
// file has none, it is invalid (0 or over 8), or the EXIF block is damaged.
// It reads only the markers before the image data (segment.Header).
func Orientation(jpeg []byte) int {
	o := 1
	_ = segment.Header(jpeg, func(s segment.Segment) bool {
		if s.Marker == segment.APP1 {
			if v := segment.ExifOrientation(s.Data); v != 0 {
				o = v
				return false
			}
		}
		return true
	})
	return o
}
