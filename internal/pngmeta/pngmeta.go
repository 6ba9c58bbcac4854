// Package pngmeta removes a PNG's metadata without re-encoding its pixels:
// it walks the chunks and copies the ones rendering needs byte for byte
// (their CRCs stay valid), dropping the rest. Text (tEXt, zTXt, iTXt),
// EXIF (eXIf), the modification time (tIME), suggested palettes (sPLT) and
// every ancillary chunk it does not know can hold names, NHS numbers and
// locations; they go, and so does anything after IEND.
//
// Kept: every critical chunk (IHDR, PLTE, IDAT, IEND, and unknown critical
// ones, which a decoder must see to refuse the file), and the ancillary
// chunks that change how the pixels look or are the image: gAMA, cHRM,
// sRGB, iCCP, cICP, mDCV, cLLI, sBIT (colour); tRNS, bKGD (transparency and
// background); pHYs (pixel size); hIST; acTL, fcTL, fdAT (animation
// frames).
//
// [Check] decides whether image/png would decode a PNG, and with what
// error, without reconstructing its pixels: the validate stage's damage
// check.
package pngmeta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
)

// Signature is the eight bytes every PNG starts with.
const Signature = "\x89PNG\r\n\x1a\n"

// ErrNotPNG: the data is not a well-formed chunk sequence (no signature,
// a chunk running past the end, a bad CRC, no IHDR first, no IEND).
var ErrNotPNG = errors.New("not a well-formed PNG")

// kept lists the ancillary chunks kept.
var kept = map[string]bool{
	"gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "cICP": true, "mDCV": true, "cLLI": true, "sBIT": true,
	"tRNS": true, "bKGD": true, "pHYs": true, "hIST": true, "acTL": true, "fcTL": true, "fdAT": true,
}

// Keeps reports whether Strip keeps a chunk of type typ.
func Keeps(typ string) bool {
	return len(typ) == 4 && (typ[0]&0x20 == 0 || kept[typ]) // upper-case first letter: critical
}

// Result is what Strip did.
type Result struct {
	// Data is the PNG without its metadata: the input itself when nothing
	// was removed.
	Data []byte
	// Removed names the chunk types removed, each once, in the order first
	// met, and "data after IEND" when there was some.
	Removed []string
	// RemovedBytes is how many bytes went.
	RemovedBytes int
}

// Chunk is one chunk of a PNG.
type Chunk struct {
	Type   string
	Offset int // of the length field
	Len    int // of the chunk data
}

// Size is the chunk's size in the file: length, type, data and CRC.
func (c Chunk) Size() int { return 12 + c.Len }

// Chunks walks data's chunks, checking each one's bounds and CRC, up to
// and including IEND; trailing is how many bytes follow IEND.
func Chunks(data []byte) (chunks []Chunk, trailing int, err error) {
	if len(data) < len(Signature) || string(data[:len(Signature)]) != Signature {
		return nil, 0, fmt.Errorf("%w: no PNG signature", ErrNotPNG)
	}
	for pos := len(Signature); ; {
		if len(data)-pos < 12 {
			return nil, 0, fmt.Errorf("%w: no IEND chunk (truncated?)", ErrNotPNG)
		}
		n := binary.BigEndian.Uint32(data[pos:])
		typ := data[pos+4 : pos+8]
		if n > 1<<31-1 || int64(n) > int64(len(data)-pos-12) {
			return nil, 0, fmt.Errorf("%w: chunk %q runs past the end of the file", ErrNotPNG, typ)
		}
		for _, b := range typ {
			if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z') {
				return nil, 0, fmt.Errorf("%w: chunk type %q is not four letters", ErrNotPNG, typ)
			}
		}
		end := pos + 8 + int(n)
		if crc32.ChecksumIEEE(data[pos+4:end]) != binary.BigEndian.Uint32(data[end:]) {
			return nil, 0, fmt.Errorf("%w: chunk %q has a bad CRC", ErrNotPNG, typ)
		}
		c := Chunk{Type: string(typ), Offset: pos, Len: int(n)}
		if len(chunks) == 0 && c.Type != "IHDR" {
			return nil, 0, fmt.Errorf("%w: the first chunk is %q, not IHDR", ErrNotPNG, c.Type)
		}
		chunks = append(chunks, c)
		pos = end + 4
		if c.Type == "IEND" {
			return chunks, len(data) - pos, nil
		}
	}
}

// Strip returns data without its metadata chunks and trailing data. The
// chunks kept are copied unchanged, in order. data is not modified.
func Strip(data []byte) (Result, error) {
	chunks, trailing, err := Chunks(data)
	if err != nil {
		return Result{}, err
	}
	var res Result
	drop := 0
	for _, c := range chunks {
		if !Keeps(c.Type) {
			drop += c.Size()
			if !slices.Contains(res.Removed, c.Type) {
				res.Removed = append(res.Removed, c.Type)
			}
		}
	}
	if trailing > 0 {
		res.Removed = append(res.Removed, "data after IEND")
	}
	if drop == 0 && trailing == 0 {
		res.Data = data
		return res, nil
	}
	out := make([]byte, 0, len(data)-drop-trailing)
	out = append(out, Signature...)
	for _, c := range chunks {
		if Keeps(c.Type) {
			out = append(out, data[c.Offset:c.Offset+c.Size()]...)
		}
	}
	res.Data = out
	res.RemovedBytes = len(data) - len(out)
	return res, nil
}
