package downsample

import (
	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
)

// SourceQuality estimates the IJG quality (1..100) a JPEG was saved with
// from its first luminance quantisation table (8-bit table 0;
// encode.Quality), or 0 when it cannot tell. Re-encoding above the
// source quality only spends bytes.
func SourceQuality(jpeg []byte) int {
	q := 0
	_ = segment.Header(jpeg, func(s segment.Segment) bool {
		if s.Marker != segment.DQT {
			return true
		}
		for p := s.Data; len(p) >= 65; {
			if p[0] == 0 { // table 0, 8-bit
				var t [64]uint16
				for i := range t {
					t[i] = uint16(p[1+i])
				}
				q = encode.Quality(&t)
				return false
			}
			if p[0]>>4 != 0 { // 16-bit: 128 bytes
				if len(p) < 129 {
					break
				}
				p = p[129:]
			} else {
				p = p[65:]
			}
		}
		return true
	})
	return q
}
