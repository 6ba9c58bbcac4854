package nhsnumber

import (
	"errors"
	"testing"
)

func TestNormalise(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr error
	}{
		{"9434765919", "9434765919", nil},
		{"943 476 5919", "9434765919", nil},
		{"943-476-5919", "9434765919", nil},
		{"  9876543210  ", "9876543210", nil},
		{"4010232137", "4010232137", nil},
		{"0101011113", "0101011113", nil},
		{"9999999999", "9999999999", nil},
		{"9547852140", "9547852140", nil},
		{"9690937286", "9690937286", nil},
		{"4000000632", "4000000632", nil},
		{"9990000018", "9990000018", nil},
		{"4857773456", "", ErrCheckDigit},  // the standard page's example
		{"9434765918", "", ErrCheckDigit},  // one digit off
		{"9111111111", "", ErrCheckDigit},  // mesh-api-specification
		{"9999999993", "", ErrCheckDigit},  // il-hans
		{"1234567890", "", ErrNeverIssued}, // check digit 10
		{"0000000060", "", ErrNeverIssued}, // 00000000 6x
		{"12345", "", ErrFormat},           // too short
		{"1234567890123", "", ErrFormat},   // too long
		{"987654321X", "", ErrFormat},      // letter
		{"abcdefghij", "", ErrFormat},      // letters
		{"", "", ErrFormat},                // empty
		{"943 476 591٩", "", ErrFormat},    // Arabic-Indic digit
		{"943.476.5919", "", ErrFormat},    // dots are not removed
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Normalise(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Normalise(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Normalise(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if Valid(tt.in) != (tt.wantErr == nil) {
				t.Errorf("Valid(%q) = %v", tt.in, !(tt.wantErr == nil))
			}
		})
	}
}

func TestCheckDoesNotStrip(t *testing.T) {
	if err := Check("943 476 5919"); !errors.Is(err, ErrFormat) {
		t.Errorf("Check with spaces = %v, want ErrFormat", err)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9434765919", "943***5919"},
		{"943 476 5919", "943***5919"},
		{"9434765918", "943***5918"}, // invalid but number-shaped: still masked
		{"12345", ""},
		{"943476591X", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"9434765919", "943 476 5919", "943-476-5919", "1234567890", "987654321X", "", " 0101011113 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalise(s)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with result %q", err, got)
			}
			return
		}
		if len(got) != 10 {
			t.Fatalf("Normalise(%q) = %q: not 10 characters", s, got)
		}
		if err := Check(got); err != nil {
			t.Fatalf("Normalise(%q) = %q fails Check: %v", s, got, err)
		}
		if m := Mask(s); len(m) != 10 || m[3:6] != "***" {
			t.Fatalf("Mask(%q) = %q", s, m)
		}
		// Changing any one digit must break the check digit (Modulus 11
		// detects every single-digit error).
		for i := 0; i < 10; i++ {
			b := []byte(got)
			b[i] = '0' + (b[i]-'0'+1)%10
			if Check(string(b)) == nil {
				t.Fatalf("%q valid and so is %q", got, b)
			}
		}
	})
}

func TestMaskLayout(t *testing.T) {
	for in, want := range map[string]string{
		"943 476 5919": "943 *** 5919",
		"943-476-5919": "943-***-5919",
		" 9434765919 ": " 943***5919 ",
		"12":           "12",
	} {
		if got := MaskLayout(in); got != want {
			t.Errorf("MaskLayout(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"patient 943 476 5919 unknown": "patient 943***5919 unknown",
		"9434765919":                   "943***5919",
		"ids 943-476-5919,4857773456":  "ids 943***5919,485***3456",
		"order 12345678901234":         "order 12345678901234",
		"short 12345":                  "short 12345",
		"":                             "",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
