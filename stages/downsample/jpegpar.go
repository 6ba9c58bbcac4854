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
	rows := (b.Dy() + mcu - 1) / mcu // MCU rows
	stripRows, n := stripLayout(rows, perRow)
	if n < 2 || runtime.GOMAXPROCS(0) < 2 {
		return encodeJPEG(img, q, sizeHint)
	}
	type strip struct {
		jpg  []byte
		file *jpegFile
		syms []uint32
		out  []byte
	}
	strips := make([]strip, n)
	// Encode the strips and read their symbols back, in parallel.
	err := forEach(n, func(_, i int) error {
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
	if err := forEach(n, func(_, i int) error {
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
	var hdr []byte
	hdr = append(hdr, p0[:f0.dhtStart]...)
	binary.BigEndian.PutUint16(hdr[sof+5:], uint16(b.Dy()))
	hdr = append(hdr, dht...)
	hdr = appendDRI(hdr, stripRows*perRow)
	hdr = append(hdr, p0[f0.dhtEnd:f0.scanStart]...)
	parts := make([][]byte, n)
	for i := range strips {
		parts[i] = strips[i].out
	}
	return joinStrips(hdr, parts), nil
}

// forEach runs fn(w, i) for every i in [0, n) on workers(n) goroutines
// and joins the errors; a goroutine stops at its first error. w (below
// workers(n)) names the goroutine, so fn can keep scratch space per
// goroutine.
func forEach(n int, fn func(w, i int) error) error {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	errs := make([]error, workers(n))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := range next {
				if errs[w] = fn(w, i); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// workers is how many goroutines forEach runs for n items.
func workers(n int) int { return min(n, runtime.GOMAXPROCS(0)) }

// symbolBuffers returns one growable symbol buffer per forEach goroutine.
func symbolBuffers(n int) [][]uint32 {
	bufs := make([][]uint32, workers(n))
	for w := range bufs {
		bufs[w] = make([]uint32, 0, 1<<16)
	}
	return bufs
}

// stripLayout cuts rows MCU rows of perRow MCUs each into n strips of
// stripRows rows (the last may be shorter) for a parallel encode: two per
// CPU, for balance, and never more MCUs per strip than a restart interval
// holds (16 bits).
func stripLayout(rows, perRow int) (stripRows, n int) {
	per := 2 * runtime.GOMAXPROCS(0)
	stripRows = max(1, (rows+per-1)/per)
	stripRows = min(stripRows, max(1, 0xFFFF/perRow))
	return stripRows, (rows + stripRows - 1) / stripRows
}

// appendDRI appends a DRI segment setting the restart interval to
// interval MCUs; nothing when interval is 0.
func appendDRI(out []byte, interval int) []byte {
	if interval == 0 {
		return out
	}
	return append(out, 0xFF, 0xDD, 0, 4, byte(interval>>8), byte(interval))
}

// joinStrips returns the header followed by the strips' entropy-coded
// data separated by RST0..RST7 markers in turn, and EOI.
func joinStrips(header []byte, strips [][]byte) []byte {
	size := len(header) + 2
	for _, s := range strips {
		size += len(s) + 2
	}
	out := append(make([]byte, 0, size), header...)
	for i, s := range strips {
		if i > 0 {
			out = append(out, 0xFF, 0xD0+byte((i-1)%8))
		}
		out = append(out, s...)
	}
	return append(out, 0xFF, 0xD9)
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
