package textnorm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gpdoc/gpdoc/internal/corpustest"
)

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, r := range s {
		if r > 0xFFFF {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b = append(b, byte(hi), byte(hi>>8), byte(lo), byte(lo>>8))
			continue
		}
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func swap16(b []byte) []byte {
	c := bytes.Clone(b)
	for i := 0; i+1 < len(c); i += 2 {
		c[i], c[i+1] = c[i+1], c[i]
	}
	return c
}

func TestNormalise(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		want     string
		enc      string
		newlines int
		controls int
		wantErr  error
	}{
		{"utf8", []byte("Chest clear.\nSpO2 98%"), "Chest clear.\nSpO2 98%", UTF8, 0, 0, nil},
		{"utf8 bom", []byte("\xEF\xBB\xBFhello"), "hello", UTF8BOM, 0, 0, nil},
		{"crlf", []byte("a\r\nb\r\n"), "a\nb\n", UTF8, 2, 0, nil},
		{"cr only", []byte("a\rb\rc"), "a\nb\nc", UTF8, 2, 0, nil},
		{"mixed newlines", []byte("a\r\nb\rc\nd"), "a\nb\nc\nd", UTF8, 2, 0, nil},
		{"controls", []byte("a\x00b\x07c\td\x7fe\u0085f"), "abc\tdef", UTF8, 0, 4, nil},
		{"utf16le bom", utf16le("Zoë 😀\r\n", true), "Zoë 😀\n", UTF16LE, 1, 0, nil},
		{"utf16be bom", append([]byte{0xFE, 0xFF}, swap16(utf16le("Zoë", false))...), "Zoë", UTF16BE, 0, 0, nil},
		{"utf16le no bom", utf16le("plain ASCII text\r\n", false), "plain ASCII text\n", UTF16LENoBOM, 1, 0, nil},
		{"utf16be no bom", swap16(utf16le("plain text", false)), "plain text", UTF16BENoBOM, 0, 0, nil},
		{"utf32le bom", []byte{0xFF, 0xFE, 0, 0, 'h', 0, 0, 0, 0xE9, 0, 0, 0}, "hé", UTF32LE, 0, 0, nil},
		{"utf32be bom", []byte{0, 0, 0xFE, 0xFF, 0, 0, 0, 'h', 0, 0x01, 0xF6, 0x00}, "h😀", UTF32BE, 0, 0, nil},
		{"windows-1252", []byte("\x93Quoted\x94 \x96 caf\xe9 \x9c"), "“Quoted” – café œ", Windows1252, 0, 0, nil},
		{"latin-1 read as 1252", []byte("Temp\xe9rature 37.8 \xb0C"), "Température 37.8 °C", Windows1252, 0, 0, nil},
		{"xml declaration", []byte(`<?xml version="1.0" encoding="iso-8859-2"?><a>` + "\xf5</a>"), `<?xml version="1.0" encoding="iso-8859-2"?><a>ő</a>`, "iso-8859-2", 0, 0, nil},
		{"xml unknown encoding", []byte(`<?xml version="1.0" encoding="x-klingon"?>` + "\xf5"), "", "", 0, 0, ErrEncoding},
		{"shift_jis", []byte("\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd"), "", "", 0, 0, ErrEncoding},
		{"gb2312-like runs", []byte("ab \xc4\xe3\xba\xc3\xca\xc0\xbd\xe7 and some more ascii text here to dilute"), "", "", 0, 0, ErrEncoding},
		{"mostly high bytes", []byte("\xe9\xe9\xe9\xe9a"), "", "", 0, 0, ErrEncoding},
		{"8-bit with NUL", []byte("caf\xe9\x00 au lait with enough ascii"), "", "", 0, 0, ErrEncoding},
		{"bad utf8 after bom", []byte("\xEF\xBB\xBFcaf\xe9"), "", "", 0, 0, ErrMalformed},
		{"odd utf16", []byte{0xFF, 0xFE, 'a'}, "", "", 0, 0, ErrMalformed},
		{"unpaired surrogate", []byte{0xFF, 0xFE, 0x00, 0xD8, 'a', 0}, "", "", 0, 0, ErrMalformed},
		{"utf32 out of range", []byte{0xFF, 0xFE, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F}, "", "", 0, 0, ErrMalformed},
		{"empty", nil, "", UTF8, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Normalise(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(r.Text) != tt.want || r.Encoding != tt.enc || r.Newlines != tt.newlines || r.Controls != tt.controls {
				t.Errorf("got %q %s newlines=%d controls=%d; want %q %s %d %d", r.Text, r.Encoding, r.Newlines, r.Controls, tt.want, tt.enc, tt.newlines, tt.controls)
			}
			if r.Changed() != (len(r.Changes()) > 0) {
				t.Errorf("Changed() = %v but Changes() = %q", r.Changed(), r.Changes())
			}
		})
	}
}

func TestCheckUTF8(t *testing.T) {
	tests := []struct {
		in []byte
		ok bool
	}{
		{[]byte("hello\r\n"), true},
		{[]byte("\xEF\xBB\xBFhello"), true},
		{[]byte("caf\xe9"), false},
		{utf16le("hi", true), false},
		{utf16le("hello", false), false}, // NULs
	}
	for _, tt := range tests {
		if err := CheckUTF8(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckUTF8(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}

// TestCorpus reads the shared corpus's text files: every one decodes except
// Shift_JIS, which is refused rather than guessed.
func TestCorpus(t *testing.T) {
	root := corpustest.Dir(t, "text")
	want := map[string]string{
		"chardet/utf-8-sig/bom-utf-8.srt":                UTF8BOM,
		"chardet/UTF-16/bom-utf-16-le.srt":               UTF16LE,
		"chardet/UTF-16/bom-utf-16-be.srt":               UTF16BE,
		"chardet/UTF-16LE/nobom-utf16le.txt":             UTF16LENoBOM,
		"chardet/UTF-32/bom-utf-32-le.srt":               UTF32LE,
		"chardet/windows-1252/github_bug_9.txt":          Windows1252,
		"chardet/iso-8859-1/_ude_1.txt":                  Windows1252,
		"chardet/SHIFT_JIS/_ude_1.txt":                   "error",
		"chardet/iso-8859-2-hungarian/saraspatak.hu.xml": "iso-8859-2",
		"charset_normalizer/sample-french-1.txt":         Windows1252,
		"charset_normalizer/sample-polish.txt":           UTF8,
	}
	for rel, enc := range want {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		r, err := Normalise(b)
		if enc == "error" {
			if !errors.Is(err, ErrEncoding) {
				t.Errorf("%s: error = %v, want ErrEncoding", rel, err)
			}
			continue
		}
		if err != nil || !strings.EqualFold(r.Encoding, enc) {
			t.Errorf("%s: encoding %q, %v; want %q", rel, r.Encoding, err, enc)
			continue
		}
		if bytes.ContainsAny(r.Text, "\r\x00") {
			t.Errorf("%s: CR or NUL left", rel)
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("hello\r\nworld"), []byte("\xEF\xBB\xBFbom"), utf16le("Zoë 😀", true), utf16le("plain", false),
		[]byte("\x93q\x94"), []byte("\x82\xb1\x82\xf1"), {0xFF, 0xFE, 0, 0, 'a', 0, 0, 0},
		[]byte(`<?xml version="1.0" encoding="iso-8859-2"?>` + "\xf5"), nil,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Normalise(b)
		if err != nil {
			if !errors.Is(err, ErrEncoding) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !utf8.Valid(r.Text) {
			t.Fatalf("output not UTF-8: %q", r.Text)
		}
		if err := CheckUTF8(r.Text); err != nil {
			t.Fatalf("output fails CheckUTF8: %v", err)
		}
		for _, c := range string(r.Text) {
			if (c < 0x20 && c != '\t' && c != '\n') || c == 0x7F || (c >= 0x80 && c <= 0x9F) {
				t.Fatalf("control U+%04X left in %q", c, r.Text)
			}
		}
		again, err := Normalise(r.Text)
		if err != nil || !bytes.Equal(again.Text, r.Text) || again.Changed() {
			t.Fatalf("not idempotent: %q -> %q (%+v, %v)", r.Text, again.Text, again, err)
		}
		if r.Encoding == UTF8 && r.Newlines == 0 && r.Controls == 0 && !bytes.Equal(r.Text, b) {
			t.Fatalf("unchanged UTF-8 input altered: %q -> %q", b, r.Text)
		}
	})
}

func TestShrink(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want int64
	}{
		{"UTF-8", []byte("Chest clear."), 1},
		{"UTF-8 with a BOM", []byte("\xEF\xBB\xBFChest clear."), 1},
		{"UTF-16LE with a BOM", []byte("\xFF\xFEC\x00h\x00"), 2},
		{"UTF-16BE with a BOM", []byte("\xFE\xFF\x00C\x00h"), 2},
		{"BOM-less UTF-16LE", []byte("C\x00h\x00e\x00"), 2},
		{"BOM-less UTF-16LE cut at an odd length", []byte("C\x00h\x00e\x00s"), 2},
		{"UTF-32LE with a BOM", []byte("\xFF\xFE\x00\x00C\x00\x00\x00"), 4},
		{"UTF-32BE with a BOM", []byte("\x00\x00\xFE\xFF\x00\x00\x00C"), 4},
		{"binary", []byte{0, 0, 0, 1, 2, 3}, 1},
		{"empty", nil, 1},
	}
	for _, tt := range tests {
		if got := Shrink(tt.head); got != tt.want {
			t.Errorf("%s: Shrink = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzShrink: Shrink bounds how much Decode can shrink a text: the UTF-8
// it returns is never smaller than the input divided by Shrink of the
// input's first 512 bytes (less a byte order mark), so a reader that
// allows Shrink times a limit reads every file that can fit it.
func FuzzShrink(f *testing.F) {
	f.Add([]byte("\xFF\xFEC\x00h\x00"))
	f.Add([]byte("C\x00h\x00e\x00s\x00t\x00"))
	f.Add([]byte("\xFF\xFE\x00\x00C\x00\x00\x00"))
	f.Add([]byte("Chest clear.\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _, err := Decode(b)
		if err != nil {
			return
		}
		k := Shrink(b[:min(len(b), 512)])
		if int64(len(out)) < (int64(len(b))-4)/k {
			t.Errorf("%d bytes decode to %d, smaller than 1/%d of them", len(b), len(out), k)
		}
	})
}
