package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

func TestCheckShape(t *testing.T) {
	tests := []struct {
		name, line string
		want       error
		wantPath   string
	}{
		{"none", `{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, nil, ""},
		{"top level", `{"subject":{"id":{"value":"1"}},"topic":"T","subject":{"id":{"value":"2"}}}`, ErrDuplicateKey, `"subject"`},
		{"nested", `{"subject":{"id":{"value":"9434765919","type":"VerifiedNhsNumber","value":"9547852140"}}}`, ErrDuplicateKey, `"subject.id.value"`},
		{"in an array", `{"attachments":[{"fileName":"a"},{"fileName":"b","path":"x","path":"y"}]}`, ErrDuplicateKey, `"attachments[1].path"`},
		{"array of arrays", `{"x":[[{"k":1,"k":2}]]}`, ErrDuplicateKey, `"x[0][0].k"`},
		{"same key in sibling objects", `{"a":{"k":1},"b":{"k":1}}`, nil, ""},
		{"escaped spelling of the same key", `{"topic":"a","t\u006fpic":"b"}`, ErrDuplicateKey, `"topic"`},
		{"empty key twice", `{"":1,"":2}`, ErrDuplicateKey, `""`},
		{"keys that differ in case", `{"subject":{},"Subject":{}}`, ErrDuplicateKey, `"Subject" (also given as "subject"`},
		{"escaped quote and backslash in strings", `{"a":"x\"\\","b":"\\\"","a":1}`, ErrDuplicateKey, `"a"`},
		{"deep nesting", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), nil, ""},
		{"bad UTF-8 sourceId", "{\"sourceId\":\"a\xff\"}", ErrInvalidUTF8, `"sourceId"`},
		{"bad UTF-8 messageId", "{\"messageId\":\"\xc3\x28\"}", ErrInvalidUTF8, `"messageId"`},
		{"U+FFFD given as text is fine", `{"sourceId":"a\ufffd","messageId":"�"}`, nil, ""},
		{"bad UTF-8 deeper is not an id", "{\"x\":{\"sourceId\":\"a\xff\"}}", nil, ""},
		{"not JSON", `{"a":`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkShape([]byte(tt.line))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("checkShape(%q) = %v, want %v", tt.line, err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantPath) {
				t.Errorf("error %q does not name %s", err, tt.wantPath)
			}
		})
	}
}

// FuzzCheckShape checks the duplicate-key detector against a json.Decoder
// token walk (slow, but the standard library's own reading of the JSON):
// for any valid JSON both find the same first duplicate, or none; it never
// panics; and a key added a second time to an object it passed is found.
func FuzzCheckShape(f *testing.F) {
	f.Add([]byte(`{"subject":{"id":{"value":"1"}},"attachments":[{"fileName":"a"}]}`))
	f.Add([]byte(`{"a":[1,{"b":[{"c":{}}]}],"d":null}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`{"Subject":1,"subject":2}`))
	f.Add([]byte(`[{"k":1},{"k":2,"k\u0000":3,"\u006b":4}]`))
	f.Add([]byte(`{"s":"a\"b\\","t":[true,false,null,-1.5e3]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		err := checkShape(line)
		if !json.Valid(line) {
			return
		}
		if errors.Is(err, ErrInvalidUTF8) {
			return
		}
		var de *DuplicateKeyError
		got := ""
		if errors.As(err, &de) {
			got = de.Path
		} else if err != nil {
			t.Fatalf("%q: unexpected error %v", line, err)
		}
		if want, dup := tokenWalkDuplicate(t, line); got != want || (err != nil) != dup {
			t.Fatalf("%q: checkShape found %q (%v), the token walk %q (%v)", line, got, err, want, dup)
		}
		var v any
		if json.Unmarshal(line, &v) != nil || err != nil {
			return
		}
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return
		}
		// The decoded object has no duplicates; repeat one of its keys.
		b, _ := json.Marshal(m)
		var key string
		for k := range m {
			key = k
			break
		}
		name, _ := json.Marshal(key)
		dup := append(b[:len(b)-1:len(b)-1], []byte(`,`+string(name)+`:0}`)...)
		if !errors.As(checkShape(dup), &de) || de.Path != key {
			t.Fatalf("%s: duplicate %q not found", dup, key)
		}
	})
}

// tokenWalkDuplicate is the reference: the first key of valid JSON that
// repeats one before it in its object (compared as foldName does), by path.
func tokenWalkDuplicate(t *testing.T, raw []byte) (string, bool) {
	type frame struct {
		path    string
		object  bool
		wantKey bool
		key     string
		index   int
		keys    map[string]bool
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
	done := func() {
		if f := top(); f != nil {
			if f.object {
				f.wantKey = true
			} else {
				f.index++
			}
		}
	}
	child := func() string {
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
		tok, err := dec.Token()
		if err == io.EOF {
			return "", false
		}
		if err != nil {
			t.Fatalf("token walk of valid JSON %q: %v", raw, err)
		}
		f := top()
		if f != nil && f.object && f.wantKey {
			k, ok := tok.(string)
			if !ok {
				stack = stack[:len(stack)-1]
				done()
				continue
			}
			f.key, f.wantKey = k, false
			if f.keys[foldName(k)] {
				return child(), true
			}
			f.keys[foldName(k)] = true
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				stack = append(stack, &frame{path: child(), object: d == '{', wantKey: d == '{', keys: map[string]bool{}})
			} else {
				stack = stack[:len(stack)-1]
				done()
			}
			continue
		}
		done()
	}
}

// BenchmarkCheckShape: the duplicate-key scan of a line of ten 5 MB
// attachments, next to the decoding every line gets anyway.
func BenchmarkCheckShape(b *testing.B) {
	content := strings.Repeat("QUJD", 5_000_000/3)
	var atts []string
	for range 10 {
		atts = append(atts, `{"fileName":"a.pdf","mimeType":"application/pdf","content":"`+content+`"}`)
	}
	line := []byte(`{"route":"standard","sourceId":"a","attachments":[` + strings.Join(atts, ",") + `]}`)
	b.Run("checkShape", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if err := checkShape(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseLine", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			ParseLine(line, 1, "")
		}
	})
}
