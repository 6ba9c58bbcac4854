package sctid

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		in      string
		kind    Kind
		wantErr error
	}{
		{"407554009", Concept, nil},
		{"407555005", Concept, nil},
		{"163035008", Concept, nil},
		{"248223005", Concept, nil},
		{"399304008", Concept, nil},
		{"138875005", Concept, nil}, // fails with a mistyped P row 4
		{"325871000000103", Concept, nil},
		{"149951000000107", Concept, nil},
		{"149971000000103", Concept, nil},
		{"826501000000100", Concept, nil},
		{"100005", Concept, nil},
		{"100014", Description, nil},
		{"100022", Relationship, nil},
		{"1290023401004", Concept, nil},
		{"11000001102", Concept, nil},
		{"999999990989121104", Concept, nil},
		{"407554008", 0, ErrCheckDigit},
		{"407554000", 0, ErrCheckDigit},
		{"12345", 0, ErrFormat},               // 5 digits
		{"1234567890123456789", 0, ErrFormat}, // 19 digits
		{"0407554009", 0, ErrFormat},          // leading zero
		{"40755400X", 0, ErrFormat},
		{"", 0, ErrFormat},
		{" 407554009", 0, ErrFormat},
		{"407554069", 0, ErrPartition}, // partition 06
		{"407554209", 0, ErrPartition}, // partition 20
		{"1000103", 0, ErrPartition},   // partition 10 without a namespace
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, err := Check(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Check(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if kind != tt.kind {
				t.Errorf("Check(%q) kind = %v, want %v", tt.in, kind, tt.kind)
			}
		})
	}
}

func TestCheckConcept(t *testing.T) {
	if err := CheckConcept("407554009"); err != nil {
		t.Errorf("concept: %v", err)
	}
	if err := CheckConcept("100014"); !errors.Is(err, ErrNotConcept) {
		t.Errorf("description id: %v, want ErrNotConcept", err)
	}
	if err := CheckConcept("407554008"); !errors.Is(err, ErrCheckDigit) {
		t.Errorf("bad check digit: %v", err)
	}
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"40755400", '9'},
		{"32587100000010", '3'},
		{"10000", '5'},
	}
	for _, tt := range tests {
		got, err := CheckDigit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CheckDigit(%q) = %c, %v; want %c", tt.in, got, err, tt.want)
		}
	}
	if _, err := CheckDigit("12a"); !errors.Is(err, ErrFormat) {
		t.Errorf("CheckDigit(12a) = %v", err)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"407554009", "325871000000103", "100022", "407554008", "0", "", "999999990989121104"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := Check(s)
		if err != nil {
			if kind != 0 {
				t.Fatalf("error %v with kind %v", err, kind)
			}
			return
		}
		// A valid id: its last digit is the check digit of the rest, and
		// any single-digit change or adjacent transposition is caught.
		d, err := CheckDigit(s[:len(s)-1])
		if err != nil || d != s[len(s)-1] {
			t.Fatalf("Check(%q) ok but CheckDigit = %c, %v", s, d, err)
		}
		for i := 0; i < len(s); i++ {
			b := []byte(s)
			b[i] = '0' + (b[i]-'0'+1)%10
			if c, _ := CheckDigit(string(b[:len(b)-1])); c == b[len(b)-1] {
				t.Fatalf("%q valid and so is %q", s, b)
			}
		}
		for i := 0; i+1 < len(s); i++ {
			if s[i] == s[i+1] {
				continue
			}
			b := []byte(s)
			b[i], b[i+1] = b[i+1], b[i]
			if c, _ := CheckDigit(string(b[:len(b)-1])); c == b[len(b)-1] {
				t.Fatalf("%q valid and so is its transposition %q", s, b)
			}
		}
	})
}
