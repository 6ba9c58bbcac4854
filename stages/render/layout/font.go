package layout

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Font is an embedded TrueType font with everything the layout needs
// precomputed: advance widths, the character map of the Basic Multilingual
// Plane and the font's table directory, so that rendering a document never
// parses the font again. Each PDF embeds a subset of the font: the glyphs
// the document uses, under their own glyph ids (see [Document.PDF]). A Font
// is immutable and safe for concurrent use.
type Font struct {
	name       string   // PostScript-safe name used as BaseFont
	unitsPerEm float64  // font design units per em
	advance    []uint16 // advance width of each glyph, in design units
	gid        []uint16 // glyph of each BMP rune; 0 = not covered
	toRune     []rune   // the rune each glyph stands for (for ToUnicode)
	replace    uint16   // glyph drawn for runes the font lacks ('?')
	space      uint16   // glyph of U+0020

	ascent, descent, capHeight float64 // design units; descent is negative
	bbox                       [4]float64
	italicAngle                float64
	fixedPitch                 bool

	ttf         []byte      // the whole TrueType program (read-only)
	sfnt        *sfntTables // its tables, for subsetting
	widthsPDF   []int       // advance widths in PDF glyph space (1/1000 em)
	notdefWidth int
}

// NewFont parses a TrueType font. name becomes the font's BaseFont in the
// PDF: use letters and digits only.
func NewFont(name string, ttf []byte) (*Font, error) {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-')
	}) {
		return nil, fmt.Errorf("layout: font name %q: use letters, digits and '-'", name)
	}
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("layout: parse font %s: %w", name, err)
	}
	var buf sfnt.Buffer
	upem := sf.UnitsPerEm()
	ppem := fixed.Int26_6(upem) << 6 // metrics in design units, as 26.6
	f := &Font{name: name, unitsPerEm: float64(upem)}

	n := sf.NumGlyphs()
	f.advance = make([]uint16, n)
	for i := range n {
		adv, err := sf.GlyphAdvance(&buf, sfnt.GlyphIndex(i), ppem, font.HintingNone)
		if err != nil {
			return nil, fmt.Errorf("layout: font %s: advance of glyph %d: %w", name, i, err)
		}
		f.advance[i] = uint16(adv.Round())
	}
	f.gid = make([]uint16, 0x10000)
	f.toRune = make([]rune, n)
	for r := rune(0x20); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		g, err := sf.GlyphIndex(&buf, r)
		if err != nil || g == 0 {
			continue
		}
		f.gid[r] = uint16(g)
		if f.toRune[g] == 0 {
			f.toRune[g] = r
		}
	}
	// Fonts made for code (Go's among them) draw '-' as wide as a minus
	// sign, which looks wrong in dates and words; their soft hyphen is a
	// proper hyphen, so use it for '-' (text extraction still gives '-').
	if h, sh := f.gid['-'], f.gid[0xAD]; h != 0 && sh != 0 && f.advance[sh] < f.advance[h] {
		f.gid['-'] = sh
		f.toRune[sh] = '-'
	}
	f.space = f.gid[' ']
	f.replace = f.gid['?']
	if f.space == 0 || f.replace == 0 {
		return nil, fmt.Errorf("layout: font %s has no glyph for space or '?'", name)
	}

	m, err := sf.Metrics(&buf, ppem, font.HintingNone)
	if err != nil {
		return nil, fmt.Errorf("layout: font %s: metrics: %w", name, err)
	}
	f.ascent = float64(m.Ascent) / 64
	f.descent = -float64(m.Descent) / 64
	f.capHeight = float64(m.CapHeight) / 64
	if f.capHeight <= 0 {
		f.capHeight = f.ascent * 0.7
	}
	b, err := sf.Bounds(&buf, ppem, font.HintingNone)
	if err != nil {
		return nil, fmt.Errorf("layout: font %s: bounds: %w", name, err)
	}
	// sfnt's bounds are y-down; PDF's FontBBox is y-up.
	f.bbox = [4]float64{float64(b.Min.X) / 64, -float64(b.Max.Y) / 64, float64(b.Max.X) / 64, -float64(b.Min.Y) / 64}
	if post := sf.PostTable(); post != nil {
		f.italicAngle = post.ItalicAngle
		f.fixedPitch = post.IsFixedPitch
	}

	f.widthsPDF = make([]int, n)
	for i, a := range f.advance {
		f.widthsPDF[i] = int(math.Round(float64(a) * 1000 / f.unitsPerEm))
	}
	f.notdefWidth = f.widthsPDF[0]
	f.ttf = ttf
	if f.sfnt, err = parseSFNT(ttf); err != nil {
		return nil, fmt.Errorf("layout: font %s: %w", name, err)
	}
	if f.sfnt.numGlyphs != n {
		return nil, fmt.Errorf("layout: font %s: %w: maxp says %d glyphs, the font has %d", name, ErrFont, f.sfnt.numGlyphs, n)
	}
	return f, nil
}

// zlibWriters reuses compressors: each holds about a megabyte of state, and
// every PDF compresses its font subsets and ToUnicode maps.
var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestCompression) // the level is valid
	return w
}}

// compress returns b zlib (FlateDecode) compressed.
func compress(b []byte) ([]byte, error) {
	var out bytes.Buffer
	w := zlibWriters.Get().(*zlib.Writer)
	defer zlibWriters.Put(w)
	w.Reset(&out)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// toUnicodeCMap maps every used glyph with a known character back to it,
// so that text can be extracted and searched.
func (f *Font) toUnicodeCMap(used []bool) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	type pair struct {
		g uint16
		r rune
	}
	var pairs []pair
	for g, r := range f.toRune {
		if r != 0 && g < len(used) && used[g] {
			pairs = append(pairs, pair{uint16(g), r})
		}
	}
	for len(pairs) > 0 {
		chunk := pairs[:min(100, len(pairs))]
		pairs = pairs[len(chunk):]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, p := range chunk {
			fmt.Fprintf(&b, "<%04X> <%04X>\n", p.g, p.r)
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// Name is the font's BaseFont name.
func (f *Font) Name() string { return f.name }

// Covers reports whether the font has a glyph for r.
func (f *Font) Covers(r rune) bool { return r >= 0 && r < 0x10000 && f.gid[r] != 0 }

// glyph returns the glyph for r, or the replacement glyph and false.
func (f *Font) glyph(r rune) (uint16, bool) {
	if r >= 0 && r < 0x10000 {
		if g := f.gid[r]; g != 0 {
			return g, true
		}
	}
	return f.replace, false
}

// Width is the advance width of s at size points, in points.
func (f *Font) Width(s string, size float64) float64 {
	var units int
	for _, r := range s {
		g, _ := f.glyph(r)
		units += int(f.advance[g])
	}
	return float64(units) * size / f.unitsPerEm
}

// RuneWidth is the advance width of r at size points.
func (f *Font) RuneWidth(r rune, size float64) float64 {
	g, _ := f.glyph(r)
	return float64(f.advance[g]) * size / f.unitsPerEm
}

// Truncate shortens s, ending it with "…", so that it is at most width
// points wide at size points; s is returned unchanged if it fits.
func (f *Font) Truncate(s string, size, width float64) string {
	if f.Width(s, size) <= width {
		return s
	}
	ell := f.RuneWidth('…', size)
	w := 0.0
	for i, r := range s {
		w += f.RuneWidth(r, size)
		if w+ell > width {
			return strings.TrimRight(s[:i], " ") + "…"
		}
	}
	return s
}

// Ascent is the height above the baseline at size points.
func (f *Font) Ascent(size float64) float64 { return f.ascent * size / f.unitsPerEm }

// Descent is the depth below the baseline at size points (a positive number).
func (f *Font) Descent(size float64) float64 { return -f.descent * size / f.unitsPerEm }

// Missing returns the distinct runes of s the font cannot draw, in order of
// first appearance.
func (f *Font) Missing(s string) []rune {
	var out []rune
	for _, r := range s {
		if _, ok := f.glyph(r); !ok && !containsRune(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// appendHex appends s as a PDF hex string of 2-byte glyph ids (Identity-H)
// and marks the glyphs in used (indexed by glyph id).
func (f *Font) appendHex(b []byte, s string, used []bool) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '<')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		g, _ := f.glyph(r)
		used[g] = true
		b = append(b, hex[g>>12], hex[g>>8&15], hex[g>>4&15], hex[g&15])
	}
	return append(b, '>')
}

var (
	goOnce            sync.Once
	goRegular, goBold *Font
	goErr             error
)

func loadGoFonts() {
	goOnce.Do(func() {
		if goRegular, goErr = NewFont("GoRegular", goregular.TTF); goErr != nil {
			return
		}
		goBold, goErr = NewFont("GoBold", gobold.TTF)
	})
}

// GoRegular returns the Go Regular font (Latin-1, Latin Extended-A/B,
// Greek, Cyrillic and common symbols), parsed once per process.
func GoRegular() (*Font, error) {
	loadGoFonts()
	return goRegular, goErr
}

// GoBold returns the Go Bold font, parsed once per process.
func GoBold() (*Font, error) {
	loadGoFonts()
	return goBold, goErr
}
