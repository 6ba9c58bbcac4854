// Package b64 is gpdoc's one Base64 encoder: RFC 4648 standard alphabet, with
// padding, no line breaks, byte for byte what encoding/base64.StdEncoding
// (and so encoding/json's encoding of []byte) produces.
//
// On amd64 and arm64 it uses the SIMD code of github.com/segmentio/asm/base64
// (plain Go assembly, no cgo); elsewhere, or with the purego build tag, it
// falls back to encoding/base64. Either way the output is identical, and the
// tests keep encoding/base64 as the reference.
//
// The package has three shapes of the same function: [Encode] into a slice,
// [Encoder] as an io.WriteCloser that encodes what is written to it, and
// [Reader] that serves the encoding of a byte slice as an io.Reader (and an
// io.WriterTo), encoding straight into the caller's buffer. The streaming
// shapes borrow their buffers from a sync.Pool, so steady-state encoding
// allocates nothing per byte.
package b64

import (
	"io"
	"sync"
)

// EncodedLen is the exact length of the padded standard Base64 encoding of
// n bytes: 4*ceil(n/3). n must not be negative.
func EncodedLen(n int64) int64 { return (n + 2) / 3 * 4 }

// DecodedLen is the largest number of bytes whose encoding is n bytes long
// (the inverse of EncodedLen, ignoring padding): 3*(n/4).
func DecodedLen(n int64) int64 { return n / 4 * 3 }

// Encode writes the encoding of src into dst, which must hold at least
// EncodedLen(len(src)) bytes, and returns the number of bytes written.
func Encode(dst, src []byte) int {
	n := int(EncodedLen(int64(len(src))))
	if n == 0 {
		return 0
	}
	_ = dst[n-1] // bounds check: panic here, not inside assembly
	encode(dst[:n], src)
	return n
}

// AppendEncode appends the encoding of src to dst and returns the extended
// slice.
func AppendEncode(dst, src []byte) []byte {
	n := int(EncodedLen(int64(len(src))))
	if cap(dst)-len(dst) < n {
		grown := make([]byte, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	encode(dst[len(dst):len(dst)+n], src)
	return dst[:len(dst)+n]
}

// Implementation names the encoder in use: "segmentio/asm" or
// "encoding/base64". Benchmarks and reports print it.
func Implementation() string { return implementation }

// chunkIn is how many input bytes the streaming shapes encode per step: a
// multiple of 3 whose encoding (chunkOut bytes) stays in the L2 cache.
const (
	chunkIn  = 3 * 16 << 10 // 48 KiB in, 64 KiB out
	chunkOut = chunkIn / 3 * 4
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkOut); return &b }}

func getBuf() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuf(b *[]byte) { bufPool.Put(b) }

// Write writes the encoding of src to w, EncodedLen(len(src)) bytes, in
// chunks through a pooled buffer. It returns the bytes written and the first
// write error.
func Write(w io.Writer, src []byte) (int64, error) {
	if len(src) == 0 {
		return 0, nil
	}
	bp := getBuf()
	defer putBuf(bp)
	buf := *bp
	var total int64
	for len(src) > 0 {
		k := min(len(src), chunkIn)
		n := Encode(buf, src[:k])
		m, err := w.Write(buf[:n])
		total += int64(m)
		if err != nil {
			return total, err
		}
		if m != n {
			return total, io.ErrShortWrite
		}
		src = src[k:]
	}
	return total, nil
}
