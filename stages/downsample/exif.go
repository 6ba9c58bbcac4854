package downsample

import (
	"encoding/binary"

	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
)

// Orientation returns the EXIF orientation (1..8) of a JPEG, or 1 when the
// file has none, it is invalid (0 or over 8), or the EXIF block is damaged.
// It reads only the markers before the image data and never allocates.
func Orientation(jpeg []byte) int {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(jpeg) {
		if jpeg[p] != 0xFF {
			return 1
		}
		marker := jpeg[p+1]
		if marker == 0xFF { // fill byte
			p++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return 1
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) { // no length
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(jpeg[p+2:]))
		if n < 2 || p+2+n > len(jpeg) {
			return 1
		}
		seg := jpeg[p+4 : p+2+n]
		if marker == 0xE1 {
			if o := segment.ExifOrientation(seg); o != 0 {
				return o
			}
		}
		p += 2 + n
	}
	return 1
}

// transposes reports whether orientation o swaps width and height.
func transposes(o int) bool { return o >= 5 && o <= 8 }
