package manifest

import (
	"encoding/json"
	"errors"
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

// FuzzCheckShape checks the duplicate-key detector against encoding/json: it
// never panics; a duplicate it reports is a path that exists in the decoded
// value; and a key added a second time to an object it passed is found, by
// its path.
func FuzzCheckShape(f *testing.F) {
	f.Add([]byte(`{"subject":{"id":{"value":"1"}},"attachments":[{"fileName":"a"}]}`))
	f.Add([]byte(`{"a":[1,{"b":[{"c":{}}]}],"d":null}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`[{"k":1},{"k":2,"k":3}]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		err := checkShape(line)
		var v any
		if json.Unmarshal(line, &v) != nil {
			return
		}
		if errors.Is(err, ErrDuplicateKey) {
			path := err.Error()[len(ErrDuplicateKey.Error())+1:]
			path = path[:strings.Index(path, ": a key")]
			p, uerr := strconv.Unquote(path)
			if uerr != nil || !hasPath(v, p) {
				t.Fatalf("reported %q, which is not a path of %s", path, line)
			}
			return
		}
		if err != nil {
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
		err = checkShape(dup)
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), strconv.Quote(key)) {
			t.Fatalf("%s: duplicate %q not found (err %v)", dup, key, err)
		}
	})
}

// hasPath reports whether path (as checkShape spells it) names a value in v.
func hasPath(v any, path string) bool {
	for path != "" {
		switch {
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			i, err := strconv.Atoi(path[1:end])
			a, ok := v.([]any)
			if err != nil || !ok || i >= len(a) {
				return false
			}
			v, path = a[i], strings.TrimPrefix(path[end+1:], ".")
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			// Keys may hold '.' or '[': try every key that could start path.
			for k, child := range m {
				if path == k || strings.HasPrefix(path, k+".") || strings.HasPrefix(path, k+"[") {
					if hasPath(child, strings.TrimPrefix(path[len(k):], ".")) {
						return true
					}
				}
			}
			return false
		}
	}
	return true
}
