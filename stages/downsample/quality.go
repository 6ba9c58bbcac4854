package downsample

import "encoding/binary"

// stdLuminance is the IJG (libjpeg) luminance quantisation table at
// quality 50, in zig-zag order as stored in a DQT segment.
var stdLuminance = [64]int{
	16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40,
	26, 24, 22, 22, 24, 49, 35, 37, 29, 40, 58, 51, 61, 60, 57, 51,
	56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81, 87,
	95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
}

// SourceQuality estimates the IJG quality (1..100) a JPEG was saved with
// from its first luminance quantisation table, or 0 when it cannot tell.
// Re-encoding above the source quality only spends bytes.
func SourceQuality(jpeg []byte) int {
	if len(jpeg) < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 {
		return 0
	}
	p := 2
	for p+4 <= len(jpeg) {
		if jpeg[p] != 0xFF {
			return 0
		}
		marker := jpeg[p+1]
		if marker == 0xFF {
			p++
			continue
		}
		if marker == 0xDA || marker == 0xD9 {
			return 0
		}
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(jpeg[p+2:]))
		if n < 2 || p+2+n > len(jpeg) {
			return 0
		}
		if marker == 0xDB && n >= 2+65 {
			seg := jpeg[p+4 : p+2+n]
			if seg[0]&0x0F != 0 || seg[0]>>4 != 0 { // want table 0, 8-bit
				p += 2 + n
				continue
			}
			sum := 0.0
			for i := range 64 {
				sum += float64(seg[1+i]) * 100 / float64(stdLuminance[i])
			}
			scale := sum / 64
			var q float64
			if scale <= 100 {
				q = (200 - scale) / 2
			} else {
				q = 5000 / scale
			}
			return min(max(int(q+0.5), 1), 100)
		}
		p += 2 + n
	}
	return 0
}
