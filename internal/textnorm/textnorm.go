// Package textnorm turns the text files senders produce into clean UTF-8:
// it strips a byte order mark, converts UTF-16 and UTF-32 (with a BOM, or
// BOM-less UTF-16 of Latin-1 text, whose pattern of zero bytes is
// unmistakable), XML that declares its encoding, and Windows-1252 when that
// reading is unambiguous; it normalises newlines to LF and removes control
// characters other than tab and newline.
//
// Anything it cannot decode with confidence is refused with [ErrEncoding]
// rather than guessed: a wrong guess changes the words of a clinical note.
package textnorm

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
)

// Sentinel errors, for errors.Is.
var (
	// ErrEncoding: the bytes are not UTF-8 and their encoding cannot be
	// told unambiguously.
	ErrEncoding = errors.New("text encoding cannot be determined unambiguously")
	// ErrMalformed: the bytes claim an encoding (a BOM, a declaration) but
	// are not valid in it.
	ErrMalformed = errors.New("text is not valid in its declared encoding")
)

// Encodings Normalise recognises, as reported in Result.Encoding.
const (
	// UTF8 is UTF-8 without a BOM: the only input left as it is.
	UTF8 = "UTF-8"
	// UTF8BOM is UTF-8 with a byte order mark, which is removed.
	UTF8BOM = "UTF-8 with BOM"
	// UTF16LE is little-endian UTF-16 with a BOM.
	UTF16LE = "UTF-16LE"
	// UTF16BE is big-endian UTF-16 with a BOM.
	UTF16BE = "UTF-16BE"
	// UTF16LENoBOM is little-endian UTF-16 of Latin-1 text without a BOM.
	UTF16LENoBOM = "UTF-16LE without BOM"
	// UTF16BENoBOM is big-endian UTF-16 of Latin-1 text without a BOM.
	UTF16BENoBOM = "UTF-16BE without BOM"
	// UTF32LE is little-endian UTF-32 with a BOM.
	UTF32LE = "UTF-32LE"
	// UTF32BE is big-endian UTF-32 with a BOM.
	UTF32BE = "UTF-32BE"
	// Windows1252 is 8-bit Western text (Latin-1 is read as it too).
	Windows1252 = "Windows-1252"
)

// Result is normalised text and what was done to get it.
type Result struct {
	// Text is the normalised UTF-8 text.
	Text []byte
	// Encoding is the encoding the input was read in (UTF8, UTF16LE, ...,
	// or the name an XML declaration gave).
	Encoding string
	// Newlines counts CRLF and lone CR line ends changed to LF.
	Newlines int
	// Controls counts control characters removed.
	Controls int
}

// Changed reports whether Text differs from the input.
func (r Result) Changed() bool {
	return r.Encoding != UTF8 || r.Newlines > 0 || r.Controls > 0
}

// Changes describes what was done, one phrase per change, for reports.
func (r Result) Changes() []string {
	var out []string
	switch r.Encoding {
	case UTF8:
	case UTF8BOM:
		out = append(out, "removed the UTF-8 byte order mark")
	default:
		out = append(out, "converted from "+r.Encoding+" to UTF-8")
	}
	if r.Newlines > 0 {
		out = append(out, fmt.Sprintf("changed %d CRLF or CR line ends to LF", r.Newlines))
	}
	if r.Controls > 0 {
		out = append(out, fmt.Sprintf("removed %d control characters", r.Controls))
	}
	return out
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
	bomUTF32LE = []byte{0xFF, 0xFE, 0, 0}
	bomUTF32BE = []byte{0, 0, 0xFE, 0xFF}
)

// Normalise decodes b and returns it as normalised UTF-8 text.
func Normalise(b []byte) (Result, error) {
	text, enc, err := Decode(b)
	if err != nil {
		return Result{}, err
	}
	r := Result{Encoding: enc}
	r.Text, r.Newlines, r.Controls = clean(text)
	// A byte order mark left at the start (a second one, or one that stood
	// behind a removed control character) is not text: drop it, so that
	// normalising is idempotent.
	for bytes.HasPrefix(r.Text, bomUTF8) {
		r.Text = r.Text[len(bomUTF8):]
		r.Controls++
	}
	return r, nil
}

// Shrink returns how many times smaller text that starts with head (its
// first few hundred bytes) can become when Decode turns it into UTF-8, at
// most: 4 for UTF-32 (a byte order mark), 2 for UTF-16 (a byte order mark,
// or BOM-less UTF-16 of Latin-1 text), 1 otherwise. A file reader uses it
// to let a file over a size limit be read when converting it may bring it
// under.
func Shrink(head []byte) int64 {
	switch {
	case bytes.HasPrefix(head, bomUTF32LE), bytes.HasPrefix(head, bomUTF32BE):
		return 4
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		return 2
	}
	if _, ok := latin1UTF16(head[:len(head)&^1]); ok {
		return 2
	}
	return 1
}

// Decode returns b as UTF-8 and the encoding it was read in, without
// normalising newlines or control characters. A leading BOM is dropped.
func Decode(b []byte) ([]byte, string, error) {
	switch {
	case bytes.HasPrefix(b, bomUTF32LE):
		s, err := decodeUTF32(b[4:], false)
		return s, UTF32LE, err
	case bytes.HasPrefix(b, bomUTF32BE):
		s, err := decodeUTF32(b[4:], true)
		return s, UTF32BE, err
	case bytes.HasPrefix(b, bomUTF16LE):
		s, err := decodeUTF16(b[2:], false)
		return s, UTF16LE, err
	case bytes.HasPrefix(b, bomUTF16BE):
		s, err := decodeUTF16(b[2:], true)
		return s, UTF16BE, err
	case bytes.HasPrefix(b, bomUTF8):
		if !utf8.Valid(b[3:]) {
			return nil, UTF8BOM, fmt.Errorf("%w: UTF-8 byte order mark but invalid UTF-8 at byte %d", ErrMalformed, 3+invalidAt(b[3:]))
		}
		return b[3:], UTF8BOM, nil
	}
	if be, ok := latin1UTF16(b); ok {
		s, err := decodeUTF16(b, be)
		if be {
			return s, UTF16BENoBOM, err
		}
		return s, UTF16LENoBOM, err
	}
	if utf8.Valid(b) {
		return b, UTF8, nil
	}
	if name, enc := xmlEncoding(b); name != "" {
		if enc == nil {
			return nil, name, fmt.Errorf("%w: the XML declaration names encoding %q, which gpdoc does not know", ErrEncoding, name)
		}
		out, err := enc.NewDecoder().Bytes(b)
		if err != nil {
			return nil, name, fmt.Errorf("%w: not valid %s: %v", ErrMalformed, name, err)
		}
		return out, name, nil
	}
	if err := plausible1252(b); err != nil {
		return nil, "", err
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrEncoding, err)
	}
	return out, Windows1252, nil
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func decodeUTF16(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("%w: UTF-16 with an odd number of bytes", ErrMalformed)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	out := make([]byte, 0, len(units))
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+1 >= len(units) || units[i+1] < 0xDC00 || units[i+1] >= 0xE000 {
				return nil, fmt.Errorf("%w: unpaired UTF-16 surrogate at byte %d", ErrMalformed, 2*i)
			}
			out = utf8.AppendRune(out, utf16.DecodeRune(rune(u), rune(units[i+1])))
			i++
		case u >= 0xDC00 && u < 0xE000:
			return nil, fmt.Errorf("%w: unpaired UTF-16 surrogate at byte %d", ErrMalformed, 2*i)
		default:
			out = utf8.AppendRune(out, rune(u))
		}
	}
	return out, nil
}

func decodeUTF32(b []byte, bigEndian bool) ([]byte, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: UTF-32 length is not a multiple of 4", ErrMalformed)
	}
	out := make([]byte, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		var r uint32
		if bigEndian {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		if r > utf8.MaxRune || (r >= 0xD800 && r < 0xE000) {
			return nil, fmt.Errorf("%w: invalid UTF-32 code point at byte %d", ErrMalformed, i)
		}
		out = utf8.AppendRune(out, rune(r))
	}
	return out, nil
}

// latin1UTF16 reports BOM-less UTF-16 of Latin-1 text: an even length of at
// least 4 bytes where every other byte is zero and the others never are.
// No UTF-8 or 8-bit text looks like that.
func latin1UTF16(b []byte) (bigEndian, ok bool) {
	if len(b) < 4 || len(b)%2 != 0 {
		return false, false
	}
	for _, be := range []bool{false, true} {
		zero, other := 1, 0
		if be {
			zero, other = 0, 1
		}
		match := true
		for i := 0; i < len(b); i += 2 {
			if b[i+zero] != 0 || b[i+other] == 0 {
				match = false
				break
			}
		}
		if match {
			return be, true
		}
	}
	return false, false
}

var xmlDecl = regexp.MustCompile(`^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']`)

// xmlEncoding returns the encoding an XML declaration at the start of b
// names, and the decoder for it (nil if unknown).
func xmlEncoding(b []byte) (string, encoding.Encoding) {
	m := xmlDecl.FindSubmatch(b[:min(len(b), 256)])
	if m == nil {
		return "", nil
	}
	name := string(m[1])
	enc, err := htmlindex.Get(name)
	if err != nil {
		return name, nil
	}
	return name, enc
}

// plausible1252 accepts 8-bit text that reads unambiguously as
// Windows-1252: none of the five bytes 1252 leaves undefined, and few enough
// high bytes, mostly standing alone, that it is Western text with accents and smart quotes, not a
// multi-byte encoding such as Shift_JIS or GB 18030 (where most bytes of a
// line are high) or binary data.
func plausible1252(b []byte) error {
	high, nul, inRuns, run := 0, 0, 0, 0
	for _, c := range b {
		if c >= 0x80 {
			run++
		} else {
			if run >= 4 {
				inRuns += run
			}
			run = 0
		}
		switch c {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			return fmt.Errorf("%w: not UTF-8, and byte 0x%02X is undefined in Windows-1252 (a multi-byte encoding such as Shift_JIS?)", ErrEncoding, c)
		case 0:
			nul++
		}
		if c >= 0x80 {
			high++
		}
	}
	if nul > 0 {
		return fmt.Errorf("%w: not UTF-8 and contains NUL bytes (binary data?)", ErrEncoding)
	}
	if run >= 4 {
		inRuns += run
	}
	// Runs of four or more non-ASCII bytes are two or more characters of
	// a double-byte encoding; Western text rarely has more than two
	// accented letters in a row ("ção", "üß").
	if high >= 8 && inRuns*2 > high {
		return fmt.Errorf("%w: not UTF-8, and most non-ASCII bytes come in long runs, as in a multi-byte encoding (GB 18030, EUC, Big5...), not Windows-1252", ErrEncoding)
	}
	if high*3 > len(b) {
		return fmt.Errorf("%w: not UTF-8, and %d of %d bytes are non-ASCII: too many for Western text in Windows-1252", ErrEncoding, high, len(b))
	}
	return nil
}

// clean normalises newlines to LF and removes control characters other
// than tab and LF (C0, DEL, C1) and any leading BOM characters.
func clean(b []byte) ([]byte, int, int) {
	newlines, controls := 0, 0
	for bytes.HasPrefix(b, bomUTF8) {
		b = b[3:]
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == '\r':
			newlines++
			out = append(out, '\n')
			if i+1 < len(b) && b[i+1] == '\n' {
				n = 2
			}
		case r == '\t' || r == '\n':
			out = append(out, byte(r))
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F):
			controls++
		case r == utf8.RuneError && n <= 1:
			out = append(out, "\uFFFD"...) // unreachable: input is valid UTF-8
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out, newlines, controls
}

// CheckUTF8 is the strict check of text that is to be sent as it is: valid
// UTF-8 (a BOM is tolerated) with no NUL bytes.
func CheckUTF8(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("not valid UTF-8 (first invalid byte at offset %d)", invalidAt(b))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fmt.Errorf("contains NUL bytes (first at offset %d): binary data or UTF-16 without a BOM", i)
	}
	return nil
}
