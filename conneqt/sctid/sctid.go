// Package sctid checks SNOMED CT identifiers (SCTIDs): 6 to 18 digits, no
// leading zero, a known partition identifier in the second and third digits
// from the right, and a Verhoeff check digit last (SNOMED CT Release File
// Specification, section 6).
//
// Meanings are not checked: that needs a terminology server.
package sctid

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is.
var (
	// ErrFormat: not 6 to 18 digits, or a leading zero.
	ErrFormat = errors.New("not an SCTID: must be 6 to 18 digits with no leading zero")
	// ErrPartition: the partition identifier is not one SNOMED CT defines.
	ErrPartition = errors.New("unknown partition identifier")
	// ErrCheckDigit: the Verhoeff check digit is wrong.
	ErrCheckDigit = errors.New("Verhoeff check digit is wrong")
	// ErrNotConcept: a valid SCTID, but of a description, relationship or
	// other component rather than a concept.
	ErrNotConcept = errors.New("not a concept identifier")
)

// Kind is what an SCTID identifies, from its partition identifier.
type Kind int

// Kinds of component.
const (
	// Concept: partition 00 or 10.
	Concept Kind = iota + 1
	// Description: partition 01 or 11.
	Description
	// Relationship: partition 02 or 12.
	Relationship
	// Other: subsets and cross maps (partitions 03-05 and 13-15, no longer
	// used, but valid).
	Other
)

// String names the kind ("concept").
func (k Kind) String() string {
	switch k {
	case Concept:
		return "concept"
	case Description:
		return "description"
	case Relationship:
		return "relationship"
	case Other:
		return "other component"
	}
	return "unknown"
}

// Verhoeff tables (dihedral group D5 multiplication, permutation).
var (
	verhoeffD = [10][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
		{2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
		{4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
		{5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
		{7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
		{8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	verhoeffP = [8][10]byte{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		{1, 5, 7, 6, 2, 8, 3, 0, 9, 4},
		{5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7},
		{9, 4, 5, 3, 1, 2, 6, 8, 7, 0},
		{4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5},
		{7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	verhoeffInv = [10]byte{0, 4, 3, 2, 1, 5, 6, 7, 8, 9}
)

// CheckDigit returns the Verhoeff check digit for the digits in s (without
// a check digit). It returns an error if s holds anything but ASCII digits.
func CheckDigit(s string) (byte, error) {
	var c byte
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: character %d is not a digit", ErrFormat, i+1)
		}
		c = verhoeffD[c][verhoeffP[(len(s)-i)%8][s[i]-'0']]
	}
	return '0' + verhoeffInv[c], nil
}

// Check reports whether s is a valid SCTID of any kind and returns its kind.
func Check(s string) (Kind, error) {
	if len(s) < 6 || len(s) > 18 || s[0] == '0' {
		return 0, ErrFormat
	}
	var c byte
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrFormat
		}
		c = verhoeffD[c][verhoeffP[(len(s)-1-i)%8][s[i]-'0']]
	}
	kind, long := partition(s[len(s)-3], s[len(s)-2])
	if kind == 0 {
		return 0, fmt.Errorf("%w %q", ErrPartition, s[len(s)-3:len(s)-1])
	}
	// Long-format ids carry a 7-digit namespace before the partition.
	if long && len(s) < 11 {
		return 0, fmt.Errorf("%w %q: a namespace partition needs at least 11 digits", ErrPartition, s[len(s)-3:len(s)-1])
	}
	if c != 0 {
		return 0, ErrCheckDigit
	}
	return kind, nil
}

// CheckConcept reports whether s is a valid SCTID of a concept (partition
// 00 or 10), as codedDataItems codes and GP Connect typeCodes must be.
func CheckConcept(s string) error {
	kind, err := Check(s)
	if err != nil {
		return err
	}
	if kind != Concept {
		return fmt.Errorf("%w: it identifies a %s", ErrNotConcept, kind)
	}
	return nil
}

// Valid reports whether s is a valid SCTID of any kind.
func Valid(s string) bool {
	_, err := Check(s)
	return err == nil
}

// partition maps the partition digits to a kind; long reports a namespace
// (extension) partition.
func partition(first, second byte) (kind Kind, long bool) {
	if first != '0' && first != '1' {
		return 0, false
	}
	long = first == '1'
	switch second {
	case '0':
		return Concept, long
	case '1':
		return Description, long
	case '2':
		return Relationship, long
	case '3', '4', '5':
		return Other, long
	}
	return 0, false
}
