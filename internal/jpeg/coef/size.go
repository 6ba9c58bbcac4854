package coef

import (
	"encoding/binary"
	"errors"

	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
)

// ErrNoFrame reports a JPEG header with no baseline, extended or
// progressive frame header (SOF0, SOF1 or SOF2) before its first scan.
var ErrNoFrame = errors.New("coef: no SOF0, SOF1 or SOF2 frame header")

// DecodeBytes returns the bytes [Decode] allocates for the coefficients of
// the JPEG data, from its frame header alone: 128 bytes for every block of
// every component's grid, padded to whole MCUs as the decoder lays it out
// (a single component's MCU is one block). That is 3 bytes a pixel for
// 4:2:0 YCbCr, 6 for 4:4:4, 8 for four components.
func DecodeBytes(data []byte) (int64, error) {
	var sof []byte
	err := segment.Header(data, func(s segment.Segment) bool {
		switch s.Marker {
		case 0xC0, 0xC1, 0xC2:
			sof = s.Data
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if len(sof) < 6 {
		return 0, ErrNoFrame
	}
	height, width := int64(binary.BigEndian.Uint16(sof[1:])), int64(binary.BigEndian.Uint16(sof[3:]))
	n := int(sof[5])
	if n < 1 || n > maxComponents || len(sof) < 6+3*n {
		return 0, FormatError("bad frame header")
	}
	hv := func(i int) (int64, int64) {
		if n == 1 {
			return 1, 1
		}
		b := sof[6+3*i+1]
		return max(1, int64(b>>4)), max(1, int64(b&0x0F))
	}
	h0, v0 := hv(0) // the MCU grid follows the first component, as Decode's
	mcusWide, mcusHigh := (width+8*h0-1)/(8*h0), (height+8*v0-1)/(8*v0)
	var blocks int64
	for i := range n {
		h, v := hv(i)
		blocks += mcusWide * mcusHigh * h * v
	}
	return blocks * blockSize * 2, nil
}
