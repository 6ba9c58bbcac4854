// Package winname checks and repairs Windows file names, the rule the conneQt
// API sets for attachments[].fileName: none of < > : " / \ | ? * or control
// characters, not a reserved device name (CON, PRN, AUX, NUL, COM0-9,
// LPT0-9, with or without an extension), no leading or trailing whitespace
// or period, at most 255 characters (UTF-16 code units, as NTFS counts).
//
// [Check] lists every problem of a name; [Sanitise] returns a valid name
// that keeps as much of the original as it can; [Unique] makes a list of
// names unique the way Windows compares them (case-insensitively).
package winname

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxLength is the longest valid name, in UTF-16 code units.
const MaxLength = 255

// Sentinel errors, for errors.Is. Check wraps each with detail.
var (
	// ErrEmpty: the name is empty.
	ErrEmpty = errors.New("is empty")
	// ErrTooLong: more than MaxLength UTF-16 units.
	ErrTooLong = errors.New("is longer than 255 characters")
	// ErrReservedChar: one of the characters Windows reserves.
	ErrReservedChar = errors.New(`contains a character Windows does not allow (< > : " / \ | ? *)`)
	// ErrControlChar: a character below U+0020.
	ErrControlChar = errors.New("contains a control character")
	// ErrReservedName: CON, PRN, AUX, NUL, COM0-9, LPT0-9 and the like.
	ErrReservedName = errors.New("is a name Windows reserves for a device")
	// ErrEnds: leading or trailing whitespace or period.
	ErrEnds = errors.New("starts or ends with whitespace or a period")
	// ErrEncoding: the name is not valid UTF-8.
	ErrEncoding = errors.New("is not valid UTF-8")
)

const reservedChars = `<>:"/\|?*`

// Check returns every problem of name, each wrapping one of the sentinel
// errors, or nil if name is a valid Windows file name.
func Check(name string) []error {
	if name == "" {
		return []error{ErrEmpty}
	}
	var errs []error
	if !utf8.ValidString(name) {
		errs = append(errs, ErrEncoding)
	}
	var reserved, control []string
	for _, r := range name {
		switch {
		case strings.ContainsRune(reservedChars, r):
			if !contains(reserved, string(r)) {
				reserved = append(reserved, string(r))
			}
		case r < 0x20:
			if !contains(control, fmt.Sprintf("U+%04X", r)) {
				control = append(control, fmt.Sprintf("U+%04X", r))
			}
		}
	}
	if len(reserved) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s", ErrReservedChar, strings.Join(reserved, " ")))
	}
	if len(control) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s", ErrControlChar, strings.Join(control, ", ")))
	}
	if trimEnds(name) != name {
		errs = append(errs, ErrEnds)
	}
	if dev, ok := reservedDevice(name); ok {
		errs = append(errs, fmt.Errorf("%w (%s)", ErrReservedName, dev))
	}
	if n := Length(name); n > MaxLength {
		errs = append(errs, fmt.Errorf("%w (%d)", ErrTooLong, n))
	}
	return errs
}

// Valid reports whether name is a valid Windows file name.
func Valid(name string) bool { return Check(name) == nil }

// Length returns the length of name in UTF-16 code units.
func Length(name string) int {
	n := 0
	for _, r := range name {
		n += utf16.RuneLen(r)
		if utf16.RuneLen(r) < 0 { // invalid UTF-8 decodes to U+FFFD; unreachable
			n++
		}
	}
	return n
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func trimEnds(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
}

// reservedDevice reports whether name is a reserved device name, with or
// without an extension: the part before the first period, with trailing
// spaces removed, compared case-insensitively.
func reservedDevice(name string) (string, bool) {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	up := strings.ToUpper(base)
	switch up {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return up, true
	}
	if len(up) >= 4 && (strings.HasPrefix(up, "COM") || strings.HasPrefix(up, "LPT")) {
		rest := up[3:]
		if len(rest) == 1 && rest[0] >= '0' && rest[0] <= '9' {
			return up, true
		}
		if rest == "¹" || rest == "²" || rest == "³" {
			return up, true
		}
	}
	return "", false
}

// Fallback is the name Sanitise gives when nothing of the original is left.
const Fallback = "attachment"

// Sanitise returns a valid Windows file name made from name: invalid UTF-8,
// reserved and control characters become "_", whitespace and periods are
// trimmed from both ends, a reserved device name gets "_" after it
// ("CON.txt" becomes "CON_.txt"), and a name that is too long is cut,
// keeping its extension. A valid name is returned unchanged.
func Sanitise(name string) string {
	if Valid(name) {
		return name
	}
	s := strings.ToValidUTF8(name, "_")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || strings.ContainsRune(reservedChars, r) {
			return '_'
		}
		return r
	}, s)
	s = trimEnds(s)
	if s == "" {
		s = Fallback
	}
	if _, ok := reservedDevice(s); ok {
		base, ext, found := strings.Cut(s, ".")
		s = strings.TrimRight(base, " ") + "_"
		if found {
			s += "." + ext
		}
	}
	return truncate(s, MaxLength)
}

// truncate cuts s to at most max UTF-16 units, keeping a short extension.
func truncate(s string, max int) string {
	if Length(s) <= max {
		return s
	}
	base, ext := SplitExt(s)
	if Length(ext) > 16 || Length(ext) >= max {
		base, ext = s, ""
	}
	room := max - Length(ext)
	n := 0
	cut := 0
	for i, r := range base {
		if n+utf16.RuneLen(r) > room {
			break
		}
		n += utf16.RuneLen(r)
		cut = i + utf8.RuneLen(r)
	}
	base = strings.TrimRightFunc(base[:cut], func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	if base == "" {
		base = Fallback
	}
	return base + ext
}

// SplitExt splits name into its base and its extension, the last period and
// what follows it ("report.final.pdf" gives "report.final" and ".pdf"). A
// name whose only period is its first character has no extension.
func SplitExt(name string) (base, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 || strings.ContainsAny(name[i:], " ") {
		return name, ""
	}
	return name[:i], name[i:]
}

// WithExt returns name with the extension ext (".pdf"). If replace is true
// the current extension is swapped for ext, else ext is appended. The result
// is cut to MaxLength keeping ext.
func WithExt(name, ext string, replace bool) string {
	if replace {
		name, _ = SplitExt(name)
	}
	return truncate(name+ext, MaxLength)
}

// Key is the form Windows compares names in: case-folded.
func Key(name string) string { return strings.ToUpper(strings.ToLower(name)) }

// Unique returns names with later duplicates renamed "name (2).ext",
// "name (3).ext" and so on, comparing the way Windows does (case-
// insensitively). The first of equal names keeps its name; the result
// depends only on the order of names. Names are assumed valid.
func Unique(names []string) []string {
	out := make([]string, len(names))
	taken := make(map[string]bool, len(names))
	for _, n := range names {
		taken[Key(n)] = false
	}
	used := make(map[string]bool, len(names))
	for i, n := range names {
		if !used[Key(n)] {
			used[Key(n)] = true
			out[i] = n
			continue
		}
		base, ext := SplitExt(n)
		for k := 2; ; k++ {
			suffix := " (" + strconv.Itoa(k) + ")"
			cand := truncate(base, MaxLength-Length(suffix)-Length(ext)) + suffix + ext
			if _, exists := taken[Key(cand)]; !exists && !used[Key(cand)] {
				used[Key(cand)] = true
				out[i] = cand
				break
			}
		}
	}
	return out
}
