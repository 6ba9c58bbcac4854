package pngmeta

import (
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"image/png"
	"io"
	"math"
	"sync"
)

// Check reports whether image/png would decode data, without
// reconstructing a pixel: it walks the chunks with [Chunks], checks the
// header, palette and transparency chunks and their order, and inflates
// the IDAT stream (its Adler-32 verified) through a small reusable buffer,
// checking each row's filter type and that the stream holds exactly the
// rows the header needs: every row of a plain image, or of each non-empty
// Adam7 pass with its own row size. No row is unfiltered and no image is
// held: it uses under 100 KB (the zlib window, reused between calls)
// whatever the image's size.
//
// It accepts data exactly when [Chunks] accepts it and
// png.Decode(bytes.NewReader(data)) succeeds, and returns the error
// png.Decode would (a png.FormatError, png.UnsupportedError or the zlib or
// flate error, unwrapped), or [Chunks]' error. Every rule of image/png is
// followed, including its leniencies: data after the image in the zlib
// stream is an error but unused bytes after the stream in the last IDAT
// chunk are not always one (image/png refuses them only when its reader
// had not yet read them when the stream ended, which Check reproduces),
// IDAT chunks after the stream has ended are ignored, and so is anything
// after IEND. [Chunks] is stricter than image/png in two ways: a chunk
// before IHDR and a chunk type that is not four ASCII letters are refused.
//
// image/png's decision can depend on the reader it is given:
// image.Decode reads through a 4 KiB bufio.Reader, which changes when its
// zlib reader has read the last IDAT chunk to its end, so it can refuse
// unused bytes after the zlib stream that png.Decode over a bytes.Reader
// (as the downsample stage decodes) accepts. Check follows the latter.
//
// A paletted pixel may use an index past the PLTE chunk's entries: image/png
// decodes it (as opaque black), so Check accepts it too. A caller that
// refuses such pixels must decode them.
//
// ctx is checked before every 32 KiB of inflated data; when it is done,
// Check returns its error (wrapped).
func Check(ctx context.Context, data []byte) error {
	return check(ctx, data, false)
}

// Decoding stages, as image/png counts them: the chunks must come in this
// order.
const (
	dsStart = iota
	dsSeenIHDR
	dsSeenPLTE
	dsSeentRNS
	dsSeenIDAT
)

// chunkOrderError is image/png's error for a chunk out of order.
var chunkOrderError = png.FormatError("chunk out of order")

// header is what Check needs of IHDR.
type header struct {
	width, height int
	depth         int
	colourType    byte
	interlace     byte
}

// paletted and trueColour follow image/png's cbPaletted and cbTrueColor
// (truecolour without alpha).
func (h *header) paletted() bool   { return h.colourType == 3 }
func (h *header) trueColour() bool { return h.colourType == 2 }

// bitsPerPixel is the size of one pixel in the image data.
func (h *header) bitsPerPixel() int {
	return h.depth * [7]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[h.colourType]
}

// check is Check; viaImageDecode follows image.Decode's reader (a 4 KiB
// bufio.Reader over a bytes.Reader) instead of a bytes.Reader.
func check(ctx context.Context, data []byte, viaImageDecode bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("PNG check: %w", err)
	}
	chunks, _, err := Chunks(data)
	if err != nil {
		return err
	}
	src := &source{data: data, bufio: viaImageDecode}
	if viaImageDecode {
		// image.Decode peeks at the magic numbers: its buffer fills.
		src.end = min(len(data), bufSize)
	}
	src.readFull(len(Signature))
	var h header
	stage := dsStart
	for i := 0; i < len(chunks); i++ {
		c := chunks[i]
		body := data[c.Offset+8 : c.Offset+8+c.Len]
		src.readFull(8)
		switch c.Type {
		case "IHDR":
			if stage != dsStart {
				return chunkOrderError
			}
			stage = dsSeenIHDR
			if err := h.parse(body); err != nil {
				return err
			}
			src.readFull(len(body))
		case "PLTE":
			if stage != dsSeenIHDR {
				return chunkOrderError
			}
			stage = dsSeenPLTE
			np := len(body) / 3
			if len(body)%3 != 0 || np <= 0 || np > 256 || np > 1<<uint(h.depth) {
				return png.FormatError("bad PLTE length")
			}
			if h.colourType == 0 || h.colourType == 4 {
				return png.FormatError("PLTE, color type mismatch")
			}
			src.readFull(len(body))
		case "tRNS":
			switch {
			case h.paletted():
				if stage != dsSeenPLTE {
					return chunkOrderError
				}
			case h.trueColour():
				if stage != dsSeenIHDR && stage != dsSeenPLTE {
					return chunkOrderError
				}
			case stage != dsSeenIHDR:
				return chunkOrderError
			}
			stage = dsSeentRNS
			switch {
			case h.colourType == 0 && len(body) != 2,
				h.colourType == 2 && len(body) != 6,
				h.colourType == 3 && len(body) > 256:
				return png.FormatError("bad tRNS length")
			case h.colourType == 4 || h.colourType == 6:
				return png.FormatError("tRNS, color type mismatch")
			}
			src.readFull(len(body))
		case "IDAT":
			if stage < dsSeenIHDR || stage > dsSeenIDAT || (stage == dsSeenIHDR && h.paletted()) {
				return chunkOrderError
			}
			if stage == dsSeenIDAT {
				continue // image/png ignores IDAT chunks after the image
			}
			stage = dsSeenIDAT
			last, err := checkIDAT(ctx, chunks, i, src, &h)
			if err != nil {
				return err
			}
			i = last
			src = nil // what follows does not depend on the reader
		case "IEND":
			if stage != dsSeenIDAT {
				return chunkOrderError
			}
			if c.Len != 0 {
				return png.FormatError("bad IEND length")
			}
			return nil
		default:
			// Chunks has checked the length and CRC; image/png skips it.
			for n := c.Len; n > 0; n -= min(n, ignoredSize) {
				src.readFull(min(n, ignoredSize))
			}
		}
		src.readFull(4) // CRC
	}
	// Chunks ends at IEND, which returned above.
	return nil
}

// ignoredSize is the size of image/png's buffer for a chunk it skips.
const ignoredSize = 4096

// parse checks IHDR as image/png does, in its order.
func (h *header) parse(body []byte) error {
	if len(body) != 13 {
		return png.FormatError("bad IHDR length")
	}
	if body[10] != 0 {
		return png.UnsupportedError("compression method")
	}
	if body[11] != 0 {
		return png.UnsupportedError("filter method")
	}
	if body[12] != 0 && body[12] != 1 {
		return png.FormatError("invalid interlace method")
	}
	w := int32(binary.BigEndian.Uint32(body[0:4]))
	ht := int32(binary.BigEndian.Uint32(body[4:8]))
	if w <= 0 || ht <= 0 {
		return png.FormatError("non-positive dimension")
	}
	nPixels64 := int64(w) * int64(ht)
	nPixels := int(nPixels64)
	if nPixels64 != int64(nPixels) || nPixels != (nPixels*8)/8 {
		return png.UnsupportedError("dimension overflow")
	}
	depth, ct := body[8], body[9]
	valid := false
	switch depth {
	case 1, 2, 4:
		valid = ct == 0 || ct == 3
	case 8:
		valid = ct == 0 || ct == 2 || ct == 3 || ct == 4 || ct == 6
	case 16:
		valid = ct == 0 || ct == 2 || ct == 4 || ct == 6
	}
	if !valid {
		return png.UnsupportedError(fmt.Sprintf("bit depth %d, color type %d", depth, ct))
	}
	*h = header{width: int(w), height: int(ht), depth: int(depth), colourType: ct, interlace: body[12]}
	return nil
}

// adam7 is the Adam7 passes: x and y factor and offset.
var adam7 = [7][4]int{
	{8, 8, 0, 0},
	{8, 8, 4, 0},
	{4, 8, 0, 4},
	{4, 4, 2, 0},
	{2, 4, 0, 2},
	{2, 2, 1, 0},
	{1, 2, 0, 1},
}

// bufSize is the size of bufio's default buffer, which image.Decode reads
// through, and of the buffer Check inflates into.
const bufSize = 4096

// inflateBuf is how much inflated data Check takes at a time.
const inflateBuf = 32 << 10

// checker is the state Check reuses between calls: a zlib reader (with
// its 32 KiB window), the reader it reads and the buffer rows are inflated
// into.
type checker struct {
	zr   io.ReadCloser
	idat idatReader
	buf  [inflateBuf]byte
}

var checkers = sync.Pool{New: func() any { return new(checker) }}

// checkIDAT checks the image data that starts with chunks[first], an IDAT
// chunk whose header src has read, as image/png's decoder.decode does.
// It returns the index of the chunk where the zlib stream ended, after
// whose CRC image/png goes on with the chunks.
func checkIDAT(ctx context.Context, chunks []Chunk, first int, src *source, h *header) (last int, err error) {
	ck := checkers.Get().(*checker)
	defer func() {
		ck.idat = idatReader{} // keep no reference to data in the pool
		checkers.Put(ck)
	}()
	ck.idat = idatReader{src: src, chunks: chunks, i: first, rem: chunks[first].Len}
	idat := &ck.idat
	if ck.zr == nil {
		ck.zr, err = zlib.NewReader(idat)
	} else {
		err = ck.zr.(zlib.Resetter).Reset(idat, nil)
	}
	if err != nil {
		ck.zr = nil // a failed Reset leaves it unusable; so does NewReader
		return 0, err
	}
	zr := ck.zr
	bpp := int64(h.bitsPerPixel())
	for pass := range 7 {
		width, height := h.width, h.height
		if h.interlace == 1 {
			p := adam7[pass]
			width = (width - p[2] + p[0] - 1) / p[0]
			height = (height - p[3] + p[1] - 1) / p[1]
			if width == 0 || height == 0 {
				continue // image/png reads no filter byte for an empty pass
			}
		} else if pass > 0 {
			break
		}
		rowSize := 1 + (bpp*int64(width)+7)/8
		if rowSize != int64(int(rowSize)) {
			return 0, png.UnsupportedError("dimension overflow")
		}
		if err := checkRows(ctx, zr, ck.buf[:], int64(height), rowSize); err != nil {
			return 0, err
		}
	}
	// Then the end of the stream, which verifies the zlib checksum, as
	// image/png reads it.
	var one [1]byte
	n := 0
	for i := 0; n == 0 && err == nil; i++ {
		if i == 100 {
			return 0, io.ErrNoProgress
		}
		n, err = zr.Read(one[:])
	}
	if err != nil && err != io.EOF {
		return 0, png.FormatError(err.Error())
	}
	if n != 0 || idat.rem != 0 {
		return 0, png.FormatError("too much pixel data")
	}
	return idat.i, nil
}

// checkRows reads height rows of rowSize bytes (the filter type byte and
// the filtered pixels) from zr through buf, checking each row's filter type
// as image/png does: a row with a bad filter type is an error once all its
// bytes have been read; a row the stream cannot complete is "not enough
// pixel data" or the stream's error.
func checkRows(ctx context.Context, zr io.Reader, buf []byte, height, rowSize int64) error {
	total := int64(math.MaxInt64) // more than a PNG's data can inflate to
	if height <= total/rowSize {
		total = height * rowSize
	}
	var pos int64       // bytes of this pass read
	badEnd := int64(-1) // end of the first row with a bad filter type
	for pos < total {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("PNG check: %w", err)
		}
		n, err := io.ReadFull(zr, buf[:min(int64(len(buf)), total-pos)])
		if badEnd < 0 {
			// The first row that starts in this piece, and those after.
			y := (pos + rowSize - 1) / rowSize
			for start := y * rowSize; start < pos+int64(n); start += rowSize {
				if buf[start-pos] > 4 {
					badEnd = start + rowSize
					break
				}
			}
		}
		pos += int64(n)
		if badEnd >= 0 && pos >= badEnd {
			return png.FormatError("bad filter type")
		}
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return png.FormatError("not enough pixel data")
			}
			return err
		}
	}
	return nil
}

// source follows the position of the reader image/png reads the file
// from: a bytes.Reader, or a bufio.Reader of bufSize bytes over one (as
// image.Decode gives it). Read sizes differ between the two, and so does
// how far the zlib reader has read when the stream ends.
type source struct {
	data  []byte
	pos   int  // next byte image/png's decoder gets
	end   int  // with bufio: the end of what it holds
	bufio bool // read through a bufio.Reader
}

// read is one Read of k > 0 bytes; it returns how many it gives. The
// bytes are data[pos-n:pos] after it.
func (s *source) read(k int) int {
	if s == nil {
		return k
	}
	switch {
	case !s.bufio:
	case s.pos < s.end: // buffered bytes first
		k = min(k, s.end-s.pos)
	case k >= bufSize: // an empty buffer and a large read: read directly
	default: // one read fills the buffer
		s.end = min(s.pos+bufSize, len(s.data))
		k = min(k, s.end-s.pos)
	}
	n := min(k, len(s.data)-s.pos)
	s.pos += n
	return n
}

// readFull is io.ReadFull of k bytes, which Chunks has checked are there.
// A nil source follows nothing.
func (s *source) readFull(k int) {
	for s != nil && k > 0 {
		n := s.read(k)
		if n == 0 {
			panic("pngmeta: read past the end of a checked PNG")
		}
		k -= n
	}
}

// idatReader presents the IDAT chunks from chunks[i] on as one stream,
// read as image/png's decoder.Read reads them: never past the end of a
// chunk in one Read, and "not enough pixel data" when the chunk after an
// exhausted one is not IDAT. It is not an io.ByteReader, so zlib reads it
// through a bufio.Reader as it does image/png's decoder.
type idatReader struct {
	src    *source
	chunks []Chunk
	i      int // the chunk being read
	rem    int // its bytes not yet read
}

func (r *idatReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for r.rem == 0 {
		r.src.readFull(4) // the CRC
		r.src.readFull(8) // the next chunk's length and type
		if r.i+1 >= len(r.chunks) || r.chunks[r.i+1].Type != "IDAT" {
			return 0, png.FormatError("not enough pixel data")
		}
		r.i++
		r.rem = r.chunks[r.i].Len
	}
	n := r.src.read(min(len(p), r.rem))
	copy(p, r.src.data[r.src.pos-n:r.src.pos])
	r.rem -= n
	return n, nil
}
