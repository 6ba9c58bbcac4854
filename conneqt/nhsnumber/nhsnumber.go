// Package nhsnumber checks NHS numbers: ten digits whose last is a Modulus 11
// check digit (NHS Data Dictionary). Input may carry the spaces or dashes of
// the printed '3 3 4' form, which are removed first.
//
// The package never logs or formats a full number; use [Mask] to show one.
package nhsnumber

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrFormat: not ten digits once spaces and dashes are removed.
	ErrFormat = errors.New("not 10 digits")
	// ErrCheckDigit: the tenth digit is not the Modulus 11 check digit.
	ErrCheckDigit = errors.New("check digit is wrong")
	// ErrNeverIssued: the first nine digits give a check digit of 10, so no
	// number with them is ever issued.
	ErrNeverIssued = errors.New("check digit computes to 10: such numbers are never issued")
)

// weights for digits 1..9.
var weights = [9]int{10, 9, 8, 7, 6, 5, 4, 3, 2}

// Normalise removes spaces and dashes (and surrounding whitespace) and
// returns the ten digits if the result is a valid NHS number.
func Normalise(s string) (string, error) {
	digits := strip(s)
	if err := Check(digits); err != nil {
		return "", err
	}
	return digits, nil
}

// Check reports whether s is exactly ten digits with a valid Modulus 11
// check digit. It does not remove spaces: use [Normalise] for input.
func Check(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("%w (got %d characters)", ErrFormat, len(s))
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("%w (character %d is not a digit)", ErrFormat, i+1)
		}
		if i < 9 {
			sum += int(s[i]-'0') * weights[i]
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return ErrNeverIssued
	}
	if int(s[9]-'0') != check {
		return ErrCheckDigit
	}
	return nil
}

// Valid reports whether s is a valid NHS number once spaces and dashes are
// removed.
func Valid(s string) bool {
	_, err := Normalise(s)
	return err == nil
}

// Mask returns a form of s safe to show in problems and logs: the first
// three and last four digits of a ten-digit number with the middle hidden
// ("943***5919"). Anything else that is not ten digits is hidden entirely,
// since a near-miss may still be a real number: Mask returns "" for it.
func Mask(s string) string {
	digits := strip(s)
	if len(digits) != 10 {
		return ""
	}
	for i := 0; i < 10; i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return ""
		}
	}
	return digits[:3] + "***" + digits[6:]
}

// MaskLayout masks the 4th to 6th digits of s where they stand, keeping
// its spaces and dashes, so that a report can show how a number was written
// without showing the number: "943 476 5919" becomes "943 *** 5919".
func MaskLayout(s string) string {
	out := []rune(s)
	digits := 0
	for i, r := range out {
		if r >= '0' && r <= '9' {
			digits++
			if digits >= 4 && digits <= 6 {
				out[i] = '*'
			}
		}
	}
	return string(out)
}

// printed matches anything written like an NHS number: ten digits, or
// 3-3-4 digits separated by spaces or dashes.
var printed = regexp.MustCompile(`[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}`)

// Redact masks everything in free text that is written like an NHS number
// (valid or not, and not part of a longer number), keeping the first three
// and last four digits, so that text from elsewhere (a service's error
// message, say) can be logged or stored: "patient 943 476 5919 unknown"
// becomes "patient 943***5919 unknown".
func Redact(s string) string {
	if len(s) < 10 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range printed.FindAllStringIndex(s, -1) {
		start, end := m[0], m[1]
		if start > 0 && isDigit(s[start-1]) || end < len(s) && isDigit(s[end]) {
			continue // part of a longer number
		}
		digits := strip(s[start:end])
		b.WriteString(s[last:start])
		b.WriteString(digits[:3] + "***" + digits[6:])
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// strip removes surrounding whitespace and the spaces and dashes of the
// printed forms "943 476 5919" and "943-476-5919".
func strip(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}
