package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrFont is wrapped by every error about a malformed TrueType font.
var ErrFont = errors.New("layout: malformed TrueType font")

// sfntTables is a parsed TrueType table directory and the parts of the
// font the subsetter needs, read once per font.
type sfntTables struct {
	data      []byte
	tables    map[string][]byte // tag -> table bytes (slices of data)
	numGlyphs int
	loca      []uint32 // numGlyphs+1 offsets into glyf
}

// subsetTags are the tables a subset keeps: the ones a PDF CIDFontType2
// program needs (ISO 32000-1 9.9: glyf, head, hhea, hmtx, loca, maxp, and
// cvt, fpgm, prep for hinting) plus OS/2, a short post table and a cmap of
// just the characters kept (PDF viewers address the glyphs by id through
// CIDToGIDMap Identity, but some font parsers insist on a cmap). name is
// dropped: the PDF names the font itself.
var subsetTags = []string{"OS/2", "cmap", "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "post", "prep"}

// parseSFNT reads the table directory and loca of a TrueType font.
func parseSFNT(b []byte) (*sfntTables, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a header", ErrFont, len(b))
	}
	if v := binary.BigEndian.Uint32(b); v != 0x00010000 && v != 0x74727565 { // 1.0 or 'true'
		return nil, fmt.Errorf("%w: sfnt version %#08x is not TrueType outlines", ErrFont, v)
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, fmt.Errorf("%w: table directory runs past the end", ErrFont)
	}
	t := &sfntTables{data: b, tables: map[string][]byte{}}
	for i := range n {
		rec := b[12+16*i:]
		tag := string(rec[:4])
		off, length := uint64(binary.BigEndian.Uint32(rec[8:])), uint64(binary.BigEndian.Uint32(rec[12:]))
		if off+length > uint64(len(b)) {
			return nil, fmt.Errorf("%w: table %q runs past the end", ErrFont, tag)
		}
		t.tables[tag] = b[off : off+length]
	}
	head, maxp, hhea, loca, glyf := t.tables["head"], t.tables["maxp"], t.tables["hhea"], t.tables["loca"], t.tables["glyf"]
	switch {
	case len(head) < 54:
		return nil, fmt.Errorf("%w: no head table", ErrFont)
	case len(maxp) < 6:
		return nil, fmt.Errorf("%w: no maxp table", ErrFont)
	case len(hhea) < 36:
		return nil, fmt.Errorf("%w: no hhea table", ErrFont)
	case glyf == nil || loca == nil:
		return nil, fmt.Errorf("%w: no glyf or loca table (not TrueType outlines)", ErrFont)
	}
	t.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	if t.numGlyphs == 0 {
		return nil, fmt.Errorf("%w: no glyphs", ErrFont)
	}
	nm := int(binary.BigEndian.Uint16(hhea[34:]))
	if nm == 0 || nm > t.numGlyphs || len(t.tables["hmtx"]) < 4*nm+2*(t.numGlyphs-nm) {
		return nil, fmt.Errorf("%w: hmtx too short for %d glyphs", ErrFont, t.numGlyphs)
	}
	t.loca = make([]uint32, t.numGlyphs+1)
	switch binary.BigEndian.Uint16(head[50:]) {
	case 0:
		if len(loca) < 2*(t.numGlyphs+1) {
			return nil, fmt.Errorf("%w: loca too short", ErrFont)
		}
		for i := range t.loca {
			t.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		}
	case 1:
		if len(loca) < 4*(t.numGlyphs+1) {
			return nil, fmt.Errorf("%w: loca too short", ErrFont)
		}
		for i := range t.loca {
			t.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		}
	default:
		return nil, fmt.Errorf("%w: unknown loca format", ErrFont)
	}
	for i := range t.numGlyphs {
		if t.loca[i] > t.loca[i+1] || int64(t.loca[i+1]) > int64(len(glyf)) {
			return nil, fmt.Errorf("%w: loca entry %d is out of order or past the glyf table", ErrFont, i)
		}
	}
	return t, nil
}

// glyph returns the outline data of glyph g.
func (t *sfntTables) glyph(g int) []byte {
	return t.tables["glyf"][t.loca[g]:t.loca[g+1]]
}

// Flags of a composite glyph component (OpenType glyf table).
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	haveTwoByTwo   = 0x0080
	maxComponents  = 64 // components in one glyph, beyond any real font
)

// components returns the glyph ids a composite glyph refers to (nil for a
// simple or empty glyph).
func components(g []byte) ([]int, error) {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil, nil
	}
	var out []int
	p := 10
	for {
		if p+4 > len(g) || len(out) >= maxComponents {
			return nil, fmt.Errorf("%w: truncated composite glyph", ErrFont)
		}
		flags := binary.BigEndian.Uint16(g[p:])
		out = append(out, int(binary.BigEndian.Uint16(g[p+2:])))
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if flags&moreComponents == 0 {
			return out, nil
		}
	}
}

// closeOver adds to keep (indexed by glyph id) glyph 0 and every glyph a
// kept composite glyph refers to, directly or through other composites.
func (t *sfntTables) closeOver(keep []bool) error {
	keep[0] = true
	stack := make([]int, 0, 64)
	for g, k := range keep {
		if k {
			stack = append(stack, g)
		}
	}
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		comps, err := components(t.glyph(g))
		if err != nil {
			return fmt.Errorf("glyph %d: %w", g, err)
		}
		for _, c := range comps {
			if c >= t.numGlyphs {
				return fmt.Errorf("%w: glyph %d refers to glyph %d of %d", ErrFont, g, c, t.numGlyphs)
			}
			if !keep[c] {
				keep[c] = true
				stack = append(stack, c)
			}
		}
	}
	return nil
}

// subset returns a TrueType font with the glyphs of used (indexed by glyph
// id; glyph 0 and the components of composite glyphs are added) and no
// others, and a cmap mapping the characters of toRune (the character of
// each glyph id, 0 for none) of the used glyphs. Glyph ids do not change: the other glyphs are left empty, with no
// advance, so the PDF's glyph codes, widths and ToUnicode map stay valid.
// The tables kept are subsetTags; post becomes a version 3 table (no glyph
// names). The output depends only on the font and the set of glyphs.
func (t *sfntTables) subset(used []bool, toRune []rune) ([]byte, error) {
	keep := make([]bool, t.numGlyphs)
	for g, u := range used {
		if u && g < t.numGlyphs {
			keep[g] = true
		}
	}
	if err := t.closeOver(keep); err != nil {
		return nil, err
	}

	// glyf and loca: kept glyphs copied, each padded to 4 bytes.
	var glyf []byte
	offsets := make([]uint32, t.numGlyphs+1)
	for g := range t.numGlyphs {
		offsets[g] = uint32(len(glyf))
		if keep[g] {
			glyf = append(glyf, t.glyph(g)...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	offsets[t.numGlyphs] = uint32(len(glyf))
	short := len(glyf) <= 0x1FFFE
	var loca []byte
	for _, o := range offsets {
		if short {
			loca = binary.BigEndian.AppendUint16(loca, uint16(o/2))
		} else {
			loca = binary.BigEndian.AppendUint32(loca, o)
		}
	}

	// hmtx: the metrics of dropped glyphs zeroed (they compress away).
	hhea := t.tables["hhea"]
	nm := int(binary.BigEndian.Uint16(hhea[34:]))
	hmtx := slices.Clone(t.tables["hmtx"][:4*nm+2*(t.numGlyphs-nm)])
	for g := range t.numGlyphs {
		if keep[g] {
			continue
		}
		if g < nm {
			clear(hmtx[4*g : 4*g+4])
		} else {
			clear(hmtx[4*nm+2*(g-nm) : 4*nm+2*(g-nm)+2])
		}
	}

	head := slices.Clone(t.tables["head"])
	clear(head[8:12]) // checkSumAdjustment, set below
	var locFormat uint16 = 1
	if short {
		locFormat = 0
	}
	binary.BigEndian.PutUint16(head[50:], locFormat)

	out := map[string][]byte{"glyf": glyf, "loca": loca, "hmtx": hmtx, "head": head, "cmap": cmapFormat4(used, toRune)}
	if post := t.tables["post"]; len(post) >= 32 {
		p := slices.Clone(post[:32])
		binary.BigEndian.PutUint32(p, 0x00030000)
		out["post"] = p
	}
	for _, tag := range subsetTags {
		if _, done := out[tag]; !done && t.tables[tag] != nil {
			out[tag] = t.tables[tag]
		}
	}
	font := writeSFNT(out)
	if h := findTable(font, "head"); h >= 0 {
		binary.BigEndian.PutUint32(font[h+8:], 0xB1B0AFBA-checksum(font))
	}
	return font, nil
}

// cmapFormat4 is a cmap table with one Windows Unicode BMP (3, 1) subtable
// of format 4: a segment for each used glyph with a character in the BMP,
// then the closing 0xFFFF segment.
func cmapFormat4(used []bool, toRune []rune) []byte {
	type pair struct{ r, g uint16 }
	var pairs []pair
	for g, r := range toRune {
		if g < len(used) && used[g] && r > 0 && r < 0xFFFF {
			pairs = append(pairs, pair{uint16(r), uint16(g)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return int(a.r) - int(b.r) }) // one glyph per rune: no ties
	pairs = append(pairs, pair{0xFFFF, 0})
	segX2 := 2 * len(pairs)
	sel := 0
	for 1<<(sel+1) <= len(pairs) {
		sel++
	}
	searchRange := 2 << sel
	sub := binary.BigEndian.AppendUint16(nil, 4)
	sub = binary.BigEndian.AppendUint16(sub, uint16(16+4*segX2))
	sub = binary.BigEndian.AppendUint16(sub, 0) // language
	sub = binary.BigEndian.AppendUint16(sub, uint16(segX2))
	sub = binary.BigEndian.AppendUint16(sub, uint16(searchRange))
	sub = binary.BigEndian.AppendUint16(sub, uint16(sel))
	sub = binary.BigEndian.AppendUint16(sub, uint16(segX2-searchRange))
	for _, p := range pairs { // endCode
		sub = binary.BigEndian.AppendUint16(sub, p.r)
	}
	sub = binary.BigEndian.AppendUint16(sub, 0) // reservedPad
	for _, p := range pairs {                   // startCode
		sub = binary.BigEndian.AppendUint16(sub, p.r)
	}
	for _, p := range pairs { // idDelta: glyph = code + delta (mod 65536)
		delta := p.g - p.r
		if p.r == 0xFFFF {
			delta = 1
		}
		sub = binary.BigEndian.AppendUint16(sub, delta)
	}
	for range pairs { // idRangeOffset
		sub = binary.BigEndian.AppendUint16(sub, 0)
	}
	b := binary.BigEndian.AppendUint16(nil, 0) // version
	b = binary.BigEndian.AppendUint16(b, 1)    // one subtable
	b = binary.BigEndian.AppendUint16(b, 3)    // Windows
	b = binary.BigEndian.AppendUint16(b, 1)    // Unicode BMP
	b = binary.BigEndian.AppendUint32(b, 12)
	return append(b, sub...)
}

// writeSFNT writes tables (tag -> bytes) as a TrueType file: the directory
// sorted by tag, each table 4-byte aligned, with its checksum.
func writeSFNT(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	slices.Sort(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	searchRange := 16 << entrySelector
	b := binary.BigEndian.AppendUint32(nil, 0x00010000)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	b = binary.BigEndian.AppendUint16(b, uint16(searchRange))
	b = binary.BigEndian.AppendUint16(b, uint16(entrySelector))
	b = binary.BigEndian.AppendUint16(b, uint16(16*n-searchRange))
	off := 12 + 16*n
	for _, tag := range tags {
		t := tables[tag]
		b = append(b, tag...)
		b = binary.BigEndian.AppendUint32(b, checksum(t))
		b = binary.BigEndian.AppendUint32(b, uint32(off))
		b = binary.BigEndian.AppendUint32(b, uint32(len(t)))
		off += (len(t) + 3) &^ 3
	}
	for _, tag := range tags {
		b = append(b, tables[tag]...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// findTable returns the offset of a table in a font written by writeSFNT,
// or -1.
func findTable(font []byte, tag string) int {
	n := int(binary.BigEndian.Uint16(font[4:]))
	for i := range n {
		rec := font[12+16*i:]
		if string(rec[:4]) == tag {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	return -1
}

// checksum is the OpenType table checksum: the sum of big-endian uint32s,
// the last one padded with zeros.
func checksum(b []byte) uint32 {
	var sum uint32
	for len(b) >= 4 {
		sum += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		var last [4]byte
		copy(last[:], b)
		sum += binary.BigEndian.Uint32(last[:])
	}
	return sum
}
