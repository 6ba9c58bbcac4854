package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark some editors put at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// ErrDuplicateKey matches a line in which an object names the same key
// twice. encoding/json keeps the last (and matches names without regard to
// case), so a line with two "subject" members would silently go to the
// second patient; gpdoc refuses the line instead.
var ErrDuplicateKey = errors.New("duplicate key")

// DuplicateKeyError is a key given twice in one object of a line. It
// matches ErrDuplicateKey.
type DuplicateKeyError struct {
	// Path is the key's JSON path as given the second time
	// ("subject.id.value", "attachments[1].fileName").
	Path string
	// First is the key as given the first time, when its spelling differs
	// (encoding/json matches keys without regard to case).
	First string
}

// Error names the member given twice.
func (e *DuplicateKeyError) Error() string {
	how := ""
	if e.First != "" {
		how = fmt.Sprintf(" (also given as %q: keys are read without regard to case)", e.First)
	}
	return fmt.Sprintf("%v %q%s: a key may appear only once in an object (the line is ambiguous: which one was meant?)", ErrDuplicateKey, e.Path, how)
}

// Is matches ErrDuplicateKey.
func (e *DuplicateKeyError) Is(target error) bool { return target == ErrDuplicateKey }

// ErrInvalidUTF8 matches a line whose "sourceId" or "messageId" is not valid
// UTF-8: encoding/json would turn every bad byte into U+FFFD, so two
// different ids could become the same one.
var ErrInvalidUTF8 = errors.New("not valid UTF-8")

// idKeys are the top-level members whose raw bytes must be valid UTF-8.
var idKeys = map[string]bool{"sourceId": true, "messageId": true}

// checkShape scans one JSON value (a line encoding/json has accepted) and
// returns a *DuplicateKeyError that names the first repeated
// key by its JSON path ("subject", "subject.id.value",
// "attachments[1].fileName"), or one wrapping ErrInvalidUTF8 for a
// top-level sourceId or messageId whose bytes are not valid UTF-8. Keys are
// compared as encoding/json matches them to fields: after unescaping, and
// without regard to case. It returns nil for a line without either, and for
// input that is not JSON (the decoder reports that better).
//
// It is a scanner of its own rather than a json.Decoder token walk: strings
// (the Base64 content that makes up nearly all of a line) are skipped with
// a byte search instead of decoded, which makes it some twenty times faster.
func checkShape(raw []byte) error {
	s := shapeScanner{raw: raw}
	s.value("", 0)
	if s.err == errStop {
		return nil
	}
	return s.err
}

type shapeScanner struct {
	raw []byte
	pos int
	err error // the first problem found, or errStop for input that is not JSON
}

// errStop ends a scan of input that is not JSON; checkShape reports nil.
var errStop = errors.New("not JSON")

// maxShapeDepth bounds nesting (encoding/json's own limit is 10000).
const maxShapeDepth = 10000

func (s *shapeScanner) fail() { s.err = errStop }

func (s *shapeScanner) ws() {
	for s.pos < len(s.raw) {
		switch s.raw[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans the value at s.pos; path is its JSON path.
func (s *shapeScanner) value(path string, depth int) {
	if s.err != nil {
		return
	}
	if depth > maxShapeDepth {
		s.fail()
		return
	}
	s.ws()
	if s.pos >= len(s.raw) {
		s.fail()
		return
	}
	switch s.raw[s.pos] {
	case '{':
		s.object(path, depth)
	case '[':
		s.array(path, depth)
	case '"':
		s.str()
	default: // a number, true, false or null: up to the next delimiter
		start := s.pos
	scalar:
		for ; s.pos < len(s.raw); s.pos++ {
			switch s.raw[s.pos] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				break scalar
			}
		}
		if s.pos == start {
			s.fail()
		}
	}
}

// str skips a string and returns its raw bytes, quotes included.
func (s *shapeScanner) str() []byte {
	start := s.pos
	s.pos++ // the opening quote
	for {
		// Two byte searches (memchr speed) rather than one IndexAny: the
		// next quote, and a backslash before it.
		q := bytes.IndexByte(s.raw[s.pos:], '"')
		if q < 0 {
			s.fail()
			return nil
		}
		b := bytes.IndexByte(s.raw[s.pos:s.pos+q], '\\')
		if b < 0 {
			s.pos += q + 1
			return s.raw[start:s.pos]
		}
		s.pos += b + 2 // a backslash and the byte it escapes
		if s.pos > len(s.raw) {
			s.fail()
			return nil
		}
	}
}

func (s *shapeScanner) object(path string, depth int) {
	s.pos++                     // '{'
	seen := map[string]string{} // folded key -> key as first given
	for first := true; ; first = false {
		s.ws()
		if s.pos >= len(s.raw) {
			s.fail()
			return
		}
		if s.raw[s.pos] == '}' && first {
			s.pos++
			return
		}
		if s.raw[s.pos] != '"' {
			s.fail()
			return
		}
		rawKey := s.str()
		if s.err != nil {
			return
		}
		key, ok := unquote(rawKey)
		if !ok {
			s.fail()
			return
		}
		child := key
		if path != "" {
			child = path + "." + key
		}
		folded := foldName(key)
		if prev, dup := seen[folded]; dup {
			e := &DuplicateKeyError{Path: child}
			if prev != key {
				e.First = prev
			}
			s.err = e
			return
		}
		seen[folded] = key
		s.ws()
		if s.pos >= len(s.raw) || s.raw[s.pos] != ':' {
			s.fail()
			return
		}
		s.pos++
		s.ws()
		start := s.pos
		s.value(child, depth+1)
		if s.err != nil {
			return
		}
		if depth == 0 && idKeys[key] && s.raw[start] == '"' && !utf8.Valid(s.raw[start:s.pos]) {
			s.err = fmt.Errorf("%q: %w: give the id as UTF-8 text (bytes that are not would be replaced, and two different ids could become one)", key, ErrInvalidUTF8)
			return
		}
		if !s.after('}') {
			return
		}
	}
}

// after moves past what follows a member or element: a comma (true:
// another follows) or the closing byte (false). Anything else is malformed
// (false, with s.err set).
func (s *shapeScanner) after(closer byte) bool {
	s.ws()
	if s.pos >= len(s.raw) {
		s.fail()
		return false
	}
	switch s.raw[s.pos] {
	case ',':
		s.pos++
		return true
	case closer:
		s.pos++
		return false
	}
	s.fail()
	return false
}

func (s *shapeScanner) array(path string, depth int) {
	s.pos++ // '['
	for i := 0; ; i++ {
		s.ws()
		if s.pos >= len(s.raw) {
			s.fail()
			return
		}
		if s.raw[s.pos] == ']' && i == 0 {
			s.pos++
			return
		}
		s.value(path+"["+strconv.Itoa(i)+"]", depth+1)
		if s.err != nil {
			return
		}
		if !s.after(']') {
			return
		}
	}
}

// unquote returns a JSON string's text as encoding/json reads it (escapes
// resolved, invalid UTF-8 replaced by U+FFFD).
func unquote(quoted []byte) (string, bool) {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var k string
	if err := json.Unmarshal(quoted, &k); err != nil {
		return "", false
	}
	return k, true
}

// foldName folds a key the way encoding/json compares names to fields: ASCII
// letters by case, other runes by upper(lower(r)).
func foldName(k string) string {
	b := make([]byte, 0, len(k))
	for _, r := range k {
		switch {
		case r < utf8.RuneSelf:
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b = append(b, byte(r))
		default:
			b = utf8.AppendRune(b, unicode.ToUpper(unicode.ToLower(r)))
		}
	}
	return string(b)
}
