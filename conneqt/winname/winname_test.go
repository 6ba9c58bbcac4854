package winname

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	long := strings.Repeat("a", 252) + ".pdf" // 256
	tests := []struct {
		name string
		want []error
	}{
		{"Discharge letter.pdf", nil},
		{"Consultation notes", nil},
		{"Ærøskøbing — résumé.txt", nil},
		{strings.Repeat("a", 251) + ".pdf", nil}, // exactly 255
		{"CONSOLE.txt", nil},
		{"COM10.txt", nil},
		{"a.b.c", nil},
		{"", []error{ErrEmpty}},
		{"a<b>.pdf", []error{ErrReservedChar}},
		{`a:b"c/d\e|f?g*h.pdf`, []error{ErrReservedChar}},
		{"a\x00b.pdf", []error{ErrControlChar}},
		{"a\tb.pdf", []error{ErrControlChar}},
		{" report.pdf", []error{ErrEnds}},
		{"report.pdf ", []error{ErrEnds}},
		{"report.", []error{ErrEnds}},
		{".hidden", []error{ErrEnds}},
		{"CON", []error{ErrReservedName}},
		{"con.txt", []error{ErrReservedName}},
		{"NUL.tar.gz", []error{ErrReservedName}},
		{"COM0", []error{ErrReservedName}},
		{"LPT9.pdf", []error{ErrReservedName}},
		{"COM¹.txt", []error{ErrReservedName}},
		{"AUX .pdf", []error{ErrReservedName}},
		{long, []error{ErrTooLong}},
		{strings.Repeat("😀", 128), []error{ErrTooLong}}, // 256 UTF-16 units
		{"bad\xffname.pdf", []error{ErrEncoding}},
		{" CON?.", []error{ErrReservedChar, ErrEnds}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.name)
			if len(got) != len(tt.want) {
				t.Fatalf("Check(%q) = %v, want %v", tt.name, got, tt.want)
			}
			for i := range got {
				if !errors.Is(got[i], tt.want[i]) {
					t.Errorf("Check(%q)[%d] = %v, want %v", tt.name, i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSanitise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Discharge letter.pdf", "Discharge letter.pdf"},
		{"a<b>.pdf", "a_b_.pdf"},
		{"  report.pdf. ", "report.pdf"},
		{"...", Fallback},
		{"", Fallback},
		{"CON", "CON_"},
		{"con.txt", "con_.txt"},
		{"AUX .pdf", "AUX_.pdf"},
		{"a\x00b\nc.txt", "a_b_c.txt"},
		{"bad\xffname.pdf", "bad_name.pdf"},
		{strings.Repeat("a", 300) + ".pdf", strings.Repeat("a", 251) + ".pdf"},
		{strings.Repeat("a", 250) + " " + strings.Repeat("b", 10) + ".pdf", strings.Repeat("a", 250) + ".pdf"},
	}
	for _, tt := range tests {
		got := Sanitise(tt.in)
		if got != tt.want {
			t.Errorf("Sanitise(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !Valid(got) {
			t.Errorf("Sanitise(%q) = %q is not valid: %v", tt.in, got, Check(got))
		}
	}
}

func TestSplitAndWithExt(t *testing.T) {
	tests := []struct{ in, base, ext string }{
		{"report.pdf", "report", ".pdf"},
		{"report.final.PDF", "report.final", ".PDF"},
		{"report", "report", ""},
		{".hidden", ".hidden", ""},
		{"Smith, J. 12.03 notes", "Smith, J. 12.03 notes", ""},
	}
	for _, tt := range tests {
		b, e := SplitExt(tt.in)
		if b != tt.base || e != tt.ext {
			t.Errorf("SplitExt(%q) = %q, %q; want %q, %q", tt.in, b, e, tt.base, tt.ext)
		}
	}
	if got := WithExt("photo.pdf", ".jpg", true); got != "photo.jpg" {
		t.Errorf("WithExt replace = %q", got)
	}
	if got := WithExt("photo", ".jpg", false); got != "photo.jpg" {
		t.Errorf("WithExt append = %q", got)
	}
	if got := WithExt(strings.Repeat("x", 255), ".jpg", false); got != strings.Repeat("x", 251)+".jpg" {
		t.Errorf("WithExt long = %q", got)
	}
}

func TestUnique(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"a.pdf", "b.pdf"}, []string{"a.pdf", "b.pdf"}},
		{[]string{"a.pdf", "A.PDF", "a.pdf"}, []string{"a.pdf", "A (2).PDF", "a (3).pdf"}},
		{[]string{"a.pdf", "a (2).pdf", "a.pdf"}, []string{"a.pdf", "a (2).pdf", "a (3).pdf"}},
		{[]string{"notes", "notes"}, []string{"notes", "notes (2)"}},
		{nil, []string{}},
	}
	for _, tt := range tests {
		got := Unique(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Unique(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSanitise(f *testing.F) {
	for _, s := range []string{"Discharge letter.pdf", "CON.txt", " a<b>. ", "", "...", "bad\xffname", strings.Repeat("é", 300) + ".pdf", "COM¹"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		errs := Check(name)
		got := Sanitise(name)
		if !Valid(got) {
			t.Fatalf("Sanitise(%q) = %q, invalid: %v", name, got, Check(got))
		}
		if errs == nil && got != name {
			t.Fatalf("Sanitise changed valid %q to %q", name, got)
		}
		if Sanitise(got) != got {
			t.Fatalf("Sanitise not idempotent on %q", got)
		}
		u := Unique([]string{got, got, strings.ToUpper(got)})
		seen := map[string]bool{}
		for _, n := range u {
			if seen[Key(n)] {
				t.Fatalf("Unique(%q) = %q has duplicates", got, u)
			}
			seen[Key(n)] = true
			if !Valid(n) {
				t.Fatalf("Unique(%q) gave invalid %q: %v", got, n, Check(n))
			}
		}
	})
}
