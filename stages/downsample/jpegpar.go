package downsample

import (
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
// Images too small to split are encoded in one piece. Like encodeJPEG,
// the result carries optimal Huffman tables: each strip's symbols are read
// back in parallel, one set of tables is built from all their counts, and
// the strips are re-emitted with it in parallel.
func encodeJPEGParallel(img image.Image, q float64, sizeHint int) ([]byte, error) {
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
	type strip struct {
		jpg  []byte
		file *jpegFile
		syms []uint32
		out  []byte
	}
	strips := make([]strip, n)
	errs := make([]error, n)
	parallel := func(fn func(i int) error) error {
		sem := make(chan struct{}, workers)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				errs[i] = fn(i)
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	// Encode the strips and read their symbols back, in parallel.
	err := parallel(func(i int) error {
		r := image.Rect(b.Min.X, b.Min.Y+i*stripRows*mcu, b.Max.X, min(b.Max.Y, b.Min.Y+(i+1)*stripRows*mcu))
		jpg, err := encodeJPEGStd(subImage(img, r), q, sizeHint/n)
		if err != nil {
			return err
		}
		f, err := parseJPEG(jpg)
		if err != nil {
			return err
		}
		syms, _, err := f.decodeSymbols()
		strips[i] = strip{jpg: jpg, file: f, syms: syms}
		return err
	})
	if err != nil {
		return nil, err
	}
	// One set of optimal tables for the whole image.
	var freq symbolCounts
	var used [4]bool
	for _, s := range strips {
		freq.add(s.syms)
		for t := range used {
			used[t] = used[t] || s.file.used[t]
		}
	}
	codes, dht := freq.tables(used)
	// Re-emit every strip's symbols with them, in parallel.
	if err := parallel(func(i int) error {
		strips[i].out = emitSymbols(make([]byte, 0, len(strips[i].jpg)), strips[i].syms, nil, &codes)
		strips[i].syms = nil
		return nil
	}); err != nil {
		return nil, err
	}
	// Header of the first strip, with the whole image's height, the new
	// tables and a restart interval of one strip; then the strips'
	// entropy-coded data separated by RSTn markers.
	f0 := strips[0].file
	p0 := strips[0].jpg
	_, sof, err := scanHeader(p0)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, sizeHint+sizeHint/8)
	out = append(out, p0[:f0.dhtStart]...)
	binary.BigEndian.PutUint16(out[sof+5:], uint16(b.Dy()))
	out = append(out, dht...)
	out = append(out, 0xFF, 0xDD, 0x00, 0x04, byte(stripRows*perRow>>8), byte(stripRows*perRow))
	out = append(out, p0[f0.dhtEnd:f0.scanStart]...)
	for i, s := range strips {
		if i > 0 {
			out = append(out, 0xFF, 0xD0+byte((i-1)%8))
		}
		out = append(out, s.out...)
	}
	return append(out, 0xFF, 0xD9), nil
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
