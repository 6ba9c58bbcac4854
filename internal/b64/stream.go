package b64

import (
	"errors"
	"io"
)

// ErrClosed is returned by an Encoder's Write after Close.
var ErrClosed = errors.New("b64: write after close")

// Encoder is an io.WriteCloser that writes the encoding of what is written to
// it to an underlying writer. Output is buffered (a pooled buffer, taken on
// the first Write and given back by Close); Close writes the final, padded
// group and the rest of the buffer, and must be called. Close does not close
// the underlying writer. An Encoder is not safe for concurrent use.
type Encoder struct {
	w    io.Writer
	bp   *[]byte // pooled output buffer, nil until the first Write
	nb   int     // bytes of *bp in use
	part [3]byte // input bytes waiting for a full group
	np   int
	err  error
	n    int64 // bytes written to w
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Reset discards the Encoder's state (without writing it) and makes it write
// to w, so that one Encoder can serve many streams.
func (e *Encoder) Reset(w io.Writer) {
	if e.bp != nil {
		putBuf(e.bp)
	}
	*e = Encoder{w: w}
}

// Written is the number of encoded bytes written to the underlying writer so
// far.
func (e *Encoder) Written() int64 { return e.n }

// Write encodes p. It returns len(p) unless writing to the underlying writer
// failed; after a failure every call returns the same error.
func (e *Encoder) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.bp == nil {
		e.bp = getBuf()
	}
	buf := *e.bp
	total := len(p)
	// Complete a pending group first.
	if e.np > 0 {
		k := copy(e.part[e.np:], p)
		e.np += k
		p = p[k:]
		if e.np < 3 {
			return total, nil
		}
		if len(buf)-e.nb < 4 && !e.flush() {
			return 0, e.err
		}
		e.nb += Encode(buf[e.nb:], e.part[:])
		e.np = 0
	}
	for len(p) >= 3 {
		room := (len(buf) - e.nb) / 4 * 3
		if room == 0 {
			if !e.flush() {
				return 0, e.err
			}
			continue
		}
		k := min(len(p)/3*3, room)
		e.nb += Encode(buf[e.nb:], p[:k])
		p = p[k:]
	}
	e.np = copy(e.part[:], p)
	return total, nil
}

// flush writes the buffered output; it reports false and records the error
// if the write failed.
func (e *Encoder) flush() bool {
	if e.nb == 0 {
		return true
	}
	m, err := e.w.Write((*e.bp)[:e.nb])
	e.n += int64(m)
	if err == nil && m != e.nb {
		err = io.ErrShortWrite
	}
	e.nb = 0
	if err != nil {
		e.err = err
		return false
	}
	return true
}

// Close writes the final group, with padding, and everything buffered, and
// gives the buffer back to the pool. Writing after Close fails with
// ErrClosed; closing twice is a no-op that returns the first outcome.
func (e *Encoder) Close() error {
	if e.err != nil {
		if e.bp != nil {
			putBuf(e.bp)
			e.bp = nil
		}
		if errors.Is(e.err, ErrClosed) {
			return nil
		}
		return e.err
	}
	if e.np > 0 {
		if e.bp == nil {
			e.bp = getBuf()
		}
		if len(*e.bp)-e.nb < 4 && !e.flush() {
			return e.err
		}
		e.nb += Encode((*e.bp)[e.nb:], e.part[:e.np])
		e.np = 0
	}
	ok := e.flush()
	if e.bp != nil {
		putBuf(e.bp)
		e.bp = nil
	}
	if !ok {
		return e.err
	}
	e.err = ErrClosed
	return nil
}

// Reader serves the encoding of a byte slice: Read encodes straight into the
// caller's buffer (no copy of the input or of its encoding is held), and
// WriteTo encodes through a pooled buffer, so io.Copy streams it with no
// per-byte allocation. The zero Reader is empty; a Reader is not safe for
// concurrent use, but many Readers may share one source slice.
type Reader struct {
	src  []byte  // input not yet encoded
	pend [4]byte // one encoded group, when the caller's buffer was under 4 bytes
	pOff int     // next byte of pend to serve
	pEnd int     // bytes of pend in use
}

// NewReader returns a Reader of the encoding of src. src must not change
// while the Reader is in use.
func NewReader(src []byte) *Reader { return &Reader{src: src} }

// Reset makes r serve the encoding of src from the start.
func (r *Reader) Reset(src []byte) { *r = Reader{src: src} }

// Len is the number of encoded bytes not yet read.
func (r *Reader) Len() int64 { return int64(r.pEnd-r.pOff) + EncodedLen(int64(len(r.src))) }

// Read fills p with as much of the encoding as fits. It returns io.EOF once
// everything has been read.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n := 0
	if r.pOff < r.pEnd {
		n = copy(p, r.pend[r.pOff:r.pEnd])
		r.pOff += n
		p = p[n:]
	}
	if len(r.src) == 0 {
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
	if len(p) >= 4 {
		// Whole groups straight into p; the last, padded group only when the
		// input ends here.
		k := min(len(p)/4*3, len(r.src))
		n += Encode(p, r.src[:k])
		r.src = r.src[k:]
		return n, nil
	}
	if len(p) == 0 {
		return n, nil
	}
	k := min(3, len(r.src))
	r.pEnd = Encode(r.pend[:], r.src[:k])
	r.src = r.src[k:]
	r.pOff = copy(p, r.pend[:r.pEnd])
	return n + r.pOff, nil
}

// WriteTo writes the rest of the encoding to w. It implements io.WriterTo,
// which io.Copy prefers to Read.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if r.pOff < r.pEnd {
		m, err := w.Write(r.pend[r.pOff:r.pEnd])
		total += int64(m)
		r.pOff += m
		if err != nil {
			return total, err
		}
		if r.pOff < r.pEnd {
			return total, io.ErrShortWrite
		}
	}
	src := r.src
	r.src = nil // after a write error the position is lost, as with any failed io.Writer
	n, err := Write(w, src)
	total += n
	return total, err
}
