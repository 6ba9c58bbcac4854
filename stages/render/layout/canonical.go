package layout

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

var errCanonical = errors.New("layout: cannot put the PDF's objects in order")

// canonical rewrites a PDF written with a classic cross-reference table so
// that its objects appear in object-number order. pdfcpu writes objects in
// the order it meets them while walking dictionaries, which follows Go's
// randomised map iteration; sorting them makes equal documents give equal
// bytes. The objects are located through the cross-reference table, never
// by scanning their (binary) content.
func canonical(b []byte) ([]byte, error) {
	sx := bytes.LastIndex(b, []byte("startxref"))
	if sx < 0 {
		return nil, fmt.Errorf("%w: no startxref", errCanonical)
	}
	fields := bytes.Fields(b[sx+len("startxref"):])
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no xref offset", errCanonical)
	}
	xref, err := strconv.Atoi(string(fields[0]))
	if err != nil || xref <= 0 || xref >= sx || !bytes.HasPrefix(b[xref:], []byte("xref")) {
		return nil, fmt.Errorf("%w: bad xref offset", errCanonical)
	}

	type entry struct {
		nr, off  int
		raw      []byte // the 20-byte entry
		inUse    bool
		subStart bool // first entry of a subsection
		subHead  []byte
	}
	var entries []entry
	pos := xref + len("xref")
	line := func() []byte {
		for pos < len(b) && (b[pos] == '\n' || b[pos] == '\r') {
			pos++
		}
		end := pos
		for end < len(b) && b[end] != '\n' && b[end] != '\r' {
			end++
		}
		l := b[pos:end]
		pos = end
		return l
	}
	var trailer int
	for {
		head := line()
		if bytes.HasPrefix(head, []byte("trailer")) {
			trailer = pos - len(head)
			break
		}
		f := bytes.Fields(head)
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: bad xref subsection %q", errCanonical, head)
		}
		start, err1 := strconv.Atoi(string(f[0]))
		count, err2 := strconv.Atoi(string(f[1]))
		if err1 != nil || err2 != nil || count < 0 || count > len(b)/20 {
			return nil, fmt.Errorf("%w: bad xref subsection %q", errCanonical, head)
		}
		for pos < len(b) && (b[pos] == '\n' || b[pos] == '\r') {
			pos++
		}
		for i := range count {
			if pos+20 > len(b) {
				return nil, fmt.Errorf("%w: short xref", errCanonical)
			}
			raw := b[pos : pos+20]
			off, err := strconv.Atoi(string(raw[:10]))
			if err != nil {
				return nil, fmt.Errorf("%w: bad xref entry %q", errCanonical, raw)
			}
			entries = append(entries, entry{nr: start + i, off: off, raw: raw, inUse: raw[17] == 'n', subStart: i == 0, subHead: head})
			pos += 20
		}
	}

	// Each object runs from its offset to the next object's (or the xref).
	var used []entry
	for _, e := range entries {
		if e.inUse {
			used = append(used, e)
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("%w: no objects", errCanonical)
	}
	byOff := slices.Clone(used)
	slices.SortFunc(byOff, func(a, c entry) int { return a.off - c.off })
	spans := map[int][]byte{}
	for i, e := range byOff {
		end := xref
		if i+1 < len(byOff) {
			end = byOff[i+1].off
		}
		if e.off <= 0 || e.off >= end {
			return nil, fmt.Errorf("%w: bad offset of object %d", errCanonical, e.nr)
		}
		span := b[e.off:end]
		if !bytes.HasPrefix(span, []byte(strconv.Itoa(e.nr)+" ")) {
			return nil, fmt.Errorf("%w: object %d is not at its offset", errCanonical, e.nr)
		}
		spans[e.nr] = span
	}

	out := make([]byte, 0, len(b))
	out = append(out, b[:byOff[0].off]...)
	newOff := map[int]int{}
	slices.SortFunc(used, func(a, c entry) int { return a.nr - c.nr })
	for _, e := range used {
		newOff[e.nr] = len(out)
		out = append(out, spans[e.nr]...)
	}
	xrefOut := len(out)
	out = append(out, "xref\n"...)
	for _, e := range entries {
		if e.subStart {
			out = append(out, e.subHead...)
			out = append(out, '\n')
		}
		if e.inUse {
			out = fmt.Appendf(out, "%010d", newOff[e.nr])
			out = append(out, e.raw[10:]...)
		} else {
			out = append(out, e.raw...)
		}
	}
	out = append(out, b[trailer:sx]...)
	out = fmt.Appendf(out, "startxref\n%d\n%%%%EOF\n", xrefOut)
	return out, nil
}
