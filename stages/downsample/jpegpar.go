package downsample

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"runtime"
	"sync"
)

// encodeJPEGParallel encodes img as one baseline JPEG using every CPU:
// the image is cut into horizontal strips whose height is a multiple of
// the MCU height, each strip is encoded on its own by image/jpeg, and the
// strips' entropy-coded data are joined with restart markers (a DRI
// segment sets the restart interval to one strip's MCUs). Restart markers
// reset the DC predictors exactly as a fresh encode does, so the result
// is a standard JPEG any decoder reads; it costs two bytes per strip.
// Images too small to split are encoded in one piece.
func encodeJPEGParallel(img image.Image, q, sizeHint int) ([]byte, error) {
	b := img.Bounds()
	mcu := 16 // image/jpeg writes colour as 4:2:0: 16x16 MCUs
	if _, gray := img.(*image.Gray); gray {
		mcu = 8
	}
	perRow := (b.Dx() + mcu - 1) / mcu
	workers := runtime.GOMAXPROCS(0)
	rows := (b.Dy() + mcu - 1) / mcu // MCU rows
	// Strips: a few per worker for balance; the restart interval (MCUs
	// per strip) must fit in 16 bits.
	stripRows := max(1, (rows+2*workers-1)/(2*workers))
	stripRows = min(stripRows, 0xFFFF/perRow)
	if workers < 2 || stripRows < 1 || rows < 2*stripRows || perRow > 0xFFFF {
		return encodeJPEG(img, q, sizeHint)
	}
	n := (rows + stripRows - 1) / stripRows
	parts := make([][]byte, n)
	errs := make([]error, n)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range n {
		r := image.Rect(b.Min.X, b.Min.Y+i*stripRows*mcu, b.Max.X, min(b.Max.Y, b.Min.Y+(i+1)*stripRows*mcu))
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			parts[i], errs[i] = encodeJPEG(subImage(img, r), q, sizeHint/n)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return joinStrips(parts, b.Dy(), stripRows*perRow, sizeHint)
}

// joinStrips splices separately encoded strips into one JPEG of height h.
func joinStrips(parts [][]byte, h, interval, sizeHint int) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, sizeHint+sizeHint/8))
	for i, p := range parts {
		hdrEnd, sof, err := scanHeader(p)
		if err != nil {
			return nil, err
		}
		if len(p) < hdrEnd+2 || p[len(p)-2] != 0xFF || p[len(p)-1] != 0xD9 {
			return nil, errors.New("jpeg strip: no EOI")
		}
		if i == 0 {
			hdr := bytes.Clone(p[:hdrEnd])
			binary.BigEndian.PutUint16(hdr[sof+5:], uint16(h)) // SOF height
			sos := bytes.LastIndex(hdr, []byte{0xFF, 0xDA})
			out.Write(hdr[:sos])
			out.Write([]byte{0xFF, 0xDD, 0x00, 0x04, byte(interval >> 8), byte(interval)}) // DRI
			out.Write(hdr[sos:])
		} else {
			out.Write([]byte{0xFF, 0xD0 + byte((i-1)%8)}) // RSTn
		}
		out.Write(p[hdrEnd : len(p)-2])
	}
	out.Write([]byte{0xFF, 0xD9})
	return out.Bytes(), nil
}

// scanHeader returns the offset just past the SOS segment and the offset
// of the SOF0 marker of a JPEG written by image/jpeg.
func scanHeader(p []byte) (end, sof int, err error) {
	sof = -1
	i := 2
	for i+4 <= len(p) {
		if p[i] != 0xFF {
			break
		}
		marker := p[i+1]
		n := int(binary.BigEndian.Uint16(p[i+2:]))
		if marker == 0xC0 {
			sof = i
		}
		if marker == 0xDA {
			if sof < 0 || i+2+n > len(p) {
				break
			}
			return i + 2 + n, sof, nil
		}
		i += 2 + n
	}
	return 0, 0, errors.New("jpeg strip: unexpected header")
}
