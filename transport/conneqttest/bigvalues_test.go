package conneqttest

import (
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
)

// decodeWhole is DecodeMessage without setting long values aside.
func decodeWhole(body []byte) (*conneqt.Message, []conneqt.Problem, error) {
	tree, err := decodeTree(body)
	if err != nil {
		return nil, nil, err
	}
	return walkTree(tree)
}

// sameDecode fails t unless DecodeMessage and decodeWhole agree on body.
func sameDecode(t *testing.T, body []byte) {
	t.Helper()
	m1, p1, e1 := DecodeMessage(body)
	m2, p2, e2 := decodeWhole(body)
	if (e1 == nil) != (e2 == nil) || (e1 != nil && e1.Error() != e2.Error()) {
		t.Fatalf("errors differ: %v and %v", e1, e2)
	}
	if !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(p1, p2) {
		t.Fatalf("decodes differ:\n%+v %v\n%+v %v", m1, p1, m2, p2)
	}
}

// TestBigValues: setting long Base64 values aside gives the same message,
// problems and errors as decoding the whole body, whatever the body does
// with such strings.
func TestBigValues(t *testing.T) {
	content := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("photo bytes ", 1000)))
	msg := string(Marshal(SampleMessage(conneqt.Standard)))
	withContent := func(c string) string {
		a := strings.Index(msg, `"attachments":`)
		i := a + strings.Index(msg[a:], `"content":"`) + len(`"content":"`)
		j := i + strings.IndexByte(msg[i:], '"')
		return msg[:i] + c + msg[j:]
	}
	tests := []struct {
		name string
		body string
		set  bool // whether a value is set aside
	}{
		{"a long attachment content", withContent(content), true},
		{"two long values", strings.Replace(withContent(content), `"body":{`, `"extra":"`+content+`","body":{`, 1), true},
		{"long content, not padded Base64", withContent(content + "A"), true},
		{"long content in an array", `{"attachments":["` + content + `"]}`, true},
		{"a long member name", `{"` + content + `":1}`, false},
		{"a long value with an escape", withContent(content[:5000] + `\/` + content[5000:]), false},
		{"a body holding a placeholder itself", strings.Replace(withContent(content), `"body":{`, `"x":"\u0000gpdoc-big-0","body":{`, 1), true},
		{"a body holding an escaped placeholder", strings.Replace(withContent(content), `"body":{`, `"x":"\u0000\u0067pdoc-big-0","body":{`, 1), true},
		{"a placeholder as a member name", strings.Replace(withContent(content), `"body":{`, `"\u0000gpdoc-big-0":1,"body":{`, 1), true},
		{"data after the object", withContent(content) + `{}`, true},
		{"cut short after the long value", withContent(content)[:strings.Index(withContent(content), content)+len(content)+1], true},
		{"unterminated long string", `{"a":"` + content, false},
		{"not an object", `["` + content + `"]`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, big := bigValues([]byte(tt.body)); (big != nil) != tt.set {
				t.Errorf("set aside %d values, want some: %v", len(big), tt.set)
			}
			sameDecode(t, []byte(tt.body))
		})
	}
	// The long content itself arrives.
	m, probs, err := DecodeMessage([]byte(withContent(content)))
	if err != nil || len(probs) != 0 || string(m.Attachments[0].Data) != strings.Repeat("photo bytes ", 1000) {
		t.Fatalf("decoded %v %v", probs, err)
	}
}

// FuzzBigValues: for any body, with every Base64 value of four bytes or
// more set aside, DecodeMessage agrees with decoding the whole body.
func FuzzBigValues(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"attachments":[{"content":"QUJDRA=="}],"x":"\u0000gpdoc-big-0"}`))
	f.Add([]byte(`{"QUJDRA==":"QUJDRA==" , "a":["QUJDRA==" ]}`))
	defer func(n int) { minBigValue = n }(minBigValue)
	minBigValue = 4
	f.Fuzz(func(t *testing.T, body []byte) {
		sameDecode(t, body)
	})
}

// BenchmarkDecodeMessage decodes a message with one 3.5 MB attachment
// (4.7 MB of Base64), as the simulator does (long values set aside) and by
// decoding the whole body.
func BenchmarkDecodeMessage(b *testing.B) {
	m := SampleMessage(conneqt.Standard)
	m.Attachments[0].Data = []byte(strings.Repeat("photo bytes ", 300_000))
	body := Marshal(m)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*conneqt.Message, []conneqt.Problem, error)
	}{{"set-aside", DecodeMessage}, {"whole", decodeWhole}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, probs, err := bc.decode(body); err != nil || len(probs) != 0 {
					b.Fatal(err, probs)
				}
			}
		})
	}
}
