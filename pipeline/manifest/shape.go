package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark some editors put at the start of a file.
var bom = []byte("\xef\xbb\xbf")

// ErrDuplicateKey matches a line in which an object names the same key
// twice. encoding/json keeps the last, so a line with two "subject" members
// would silently go to the second patient; gpdoc refuses the line instead.
var ErrDuplicateKey = errors.New("duplicate key")

// ErrInvalidUTF8 matches a line whose "sourceId" or "messageId" is not valid
// UTF-8: encoding/json would turn every bad byte into U+FFFD, so two
// different ids could become the same one.
var ErrInvalidUTF8 = errors.New("not valid UTF-8")

// idKeys are the top-level members whose raw bytes must be valid UTF-8.
var idKeys = map[string]bool{"sourceId": true, "messageId": true}

// checkShape walks the tokens of one JSON value and returns an error wrapping
// ErrDuplicateKey that names the first repeated key by its JSON path
// ("subject", "subject.id.value", "attachments[1].fileName"), or one
// wrapping ErrInvalidUTF8 for a top-level sourceId or messageId whose bytes
// are not valid UTF-8. It returns nil for a line without either, and also
// for JSON it cannot read (the decoder reports that better).
func checkShape(raw []byte) error {
	type frame struct {
		path    string
		object  bool
		wantKey bool
		key     string // the member being read
		index   int    // the array element being read
		keys    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []*frame
	top := func() *frame {
		if len(stack) == 0 {
			return nil
		}
		return stack[len(stack)-1]
	}
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if f := top(); f != nil {
			if f.object {
				f.wantKey = true
			} else {
				f.index++
			}
		}
	}
	childPath := func() string {
		f := top()
		switch {
		case f == nil:
			return ""
		case !f.object:
			return f.path + "[" + strconv.Itoa(f.index) + "]"
		case f.path == "":
			return f.key
		}
		return f.path + "." + f.key
	}
	for {
		valueStart := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // not JSON: the decoder says so with a better message
		}
		f := top()
		if f != nil && f.object && f.wantKey {
			k, ok := tok.(string)
			if !ok { // '}'
				stack = stack[:len(stack)-1]
				valueDone()
				continue
			}
			if _, dup := f.keys[k]; dup {
				f.key = k
				return fmt.Errorf("%w %q: a key may appear only once in an object (the line is ambiguous: which one was meant?)", ErrDuplicateKey, childPath())
			}
			f.keys[k] = struct{}{}
			f.key, f.wantKey = k, false
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, &frame{path: childPath(), object: d == '{', wantKey: d == '{', keys: map[string]struct{}{}})
			case ']':
				stack = stack[:len(stack)-1]
				valueDone()
			}
			continue
		}
		if len(stack) == 1 && f.object && idKeys[f.key] {
			if _, isString := tok.(string); isString && !utf8.Valid(raw[valueStart:dec.InputOffset()]) {
				return fmt.Errorf("%q: %w: give the id as UTF-8 text (bytes that are not would be replaced, and two different ids could become one)", f.key, ErrInvalidUTF8)
			}
		}
		valueDone()
	}
}
