package layout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// outline returns the segments of glyph g, or nil for an empty glyph.
func outline(t testing.TB, f *sfnt.Font, g int) []sfnt.Segment {
	t.Helper()
	var buf sfnt.Buffer
	segs, err := f.LoadGlyph(&buf, sfnt.GlyphIndex(g), fixed.I(1000), nil)
	if err != nil {
		t.Fatalf("glyph %d: %v", g, err)
	}
	return slices.Clone(segs)
}

func advance(t testing.TB, f *sfnt.Font, g int) fixed.Int26_6 {
	t.Helper()
	var buf sfnt.Buffer
	a, err := f.GlyphAdvance(&buf, sfnt.GlyphIndex(g), fixed.I(1000), font.HintingNone)
	if err != nil {
		t.Fatalf("advance of glyph %d: %v", g, err)
	}
	return a
}

// checkSubset parses a subset and checks that the kept glyphs have the
// original's outlines and advances under the same ids, and that the
// others are empty.
func checkSubset(t testing.TB, orig, sub []byte, keep []bool) {
	t.Helper()
	of, err := sfnt.Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatalf("the subset does not parse: %v", err)
	}
	if sf.NumGlyphs() != of.NumGlyphs() {
		t.Fatalf("subset has %d glyphs, want %d (ids must not change)", sf.NumGlyphs(), of.NumGlyphs())
	}
	if sf.UnitsPerEm() != of.UnitsPerEm() {
		t.Errorf("units per em %d, want %d", sf.UnitsPerEm(), of.UnitsPerEm())
	}
	for g := range of.NumGlyphs() {
		got := outline(t, sf, g)
		if g < len(keep) && keep[g] {
			if want := outline(t, of, g); !slices.Equal(got, want) {
				t.Errorf("glyph %d: outline differs from the original", g)
			}
			if got, want := advance(t, sf, g), advance(t, of, g); got != want {
				t.Errorf("glyph %d: advance %v, want %v", g, got, want)
			}
		} else if len(got) != 0 {
			t.Errorf("glyph %d was not asked for but has an outline", g)
		}
	}
	if checksum(sub) != 0xB1B0AFBA {
		t.Errorf("whole-font checksum %#x, want 0xB1B0AFBA", checksum(sub))
	}
}

func TestSubsetGoFonts(t *testing.T) {
	reg, bold := fonts(t)
	for _, f := range []*Font{reg, bold} {
		t.Run(f.Name(), func(t *testing.T) {
			keep := make([]bool, len(f.advance))
			for _, r := range "Zoë Ó'Brien – Ærøskøbing µg °C 0123456789" {
				g, _ := f.glyph(r)
				keep[g] = true
			}
			sub, err := f.sfnt.subset(keep, f.toRune)
			if err != nil {
				t.Fatal(err)
			}
			keep[0] = true // .notdef is always kept
			checkSubset(t, f.ttf, sub, keep)
			sf, _ := sfnt.Parse(sub)
			var buf sfnt.Buffer
			for _, r := range "Zoë Ó'Brien – Ærøskøbing µg °C 0123456789" {
				want, _ := f.glyph(r)
				if got, err := sf.GlyphIndex(&buf, r); err != nil || uint16(got) != want {
					t.Errorf("subset cmap: %q -> glyph %d (%v), want %d", r, got, err, want)
				}
			}
			if got, _ := sf.GlyphIndex(&buf, 'x'); got != 0 {
				t.Errorf("subset cmap maps 'x', which was not kept, to glyph %d", got)
			}
			if len(sub) > len(f.ttf)/4 {
				t.Errorf("subset of %d glyphs is %d bytes (the font is %d)", 30, len(sub), len(f.ttf))
			}
			again, _ := f.sfnt.subset(keep, f.toRune)
			if !bytes.Equal(sub, again) {
				t.Error("two subsets of one glyph set differ")
			}
		})
	}
}

// compositeFont builds a small TrueType font from Go Regular: glyphs 0 to
// 3 are Go Regular's .notdef, 'o', 'l' and 'c', glyph 4 is a composite of
// 1 (shifted, with word arguments and a scale) and 5, and glyph 5 is a
// composite of 3 (byte arguments), so that keeping 4 must keep 1, 3 and 5.
func compositeFont(t testing.TB) []byte {
	t.Helper()
	src, err := parseSFNT(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := fonts(t)
	simple := [][]byte{src.glyph(0), src.glyph(int(reg.gid['o'])), src.glyph(int(reg.gid['l'])), src.glyph(int(reg.gid['c']))}
	header := func(g []byte) []byte { return slices.Clone(g[2:10]) } // bounding box
	comp4 := binary.BigEndian.AppendUint16(nil, 0xFFFF)
	comp4 = append(comp4, header(simple[1])...)
	comp4 = binary.BigEndian.AppendUint16(comp4, argsAreWords|0x0002|haveScale|moreComponents)
	comp4 = binary.BigEndian.AppendUint16(comp4, 1)
	comp4 = binary.BigEndian.AppendUint16(comp4, 100) // dx
	comp4 = binary.BigEndian.AppendUint16(comp4, 0)   // dy
	comp4 = binary.BigEndian.AppendUint16(comp4, 0x4000)
	comp4 = binary.BigEndian.AppendUint16(comp4, 0x0002) // byte arguments, last component
	comp4 = binary.BigEndian.AppendUint16(comp4, 5)
	comp4 = append(comp4, 10, 0)
	comp5 := binary.BigEndian.AppendUint16(nil, 0xFFFF)
	comp5 = append(comp5, header(simple[3])...)
	comp5 = binary.BigEndian.AppendUint16(comp5, 0x0002)
	comp5 = binary.BigEndian.AppendUint16(comp5, 3)
	comp5 = append(comp5, 0, 0)
	glyphs := append(simple, comp4, comp5)

	var glyf, loca, hmtx []byte
	for i, g := range glyphs {
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		glyf = append(glyf, g...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hmtx = binary.BigEndian.AppendUint16(hmtx, uint16(500+10*i))
		hmtx = binary.BigEndian.AppendUint16(hmtx, 0)
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
	head := slices.Clone(src.tables["head"])
	binary.BigEndian.PutUint16(head[50:], 1)
	clear(head[8:12])
	hhea := slices.Clone(src.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(glyphs)))
	maxp := slices.Clone(src.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(glyphs)))
	post := slices.Clone(src.tables["post"][:32])
	binary.BigEndian.PutUint32(post, 0x00030000)
	b := writeSFNT(map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx,
		"loca": loca, "glyf": glyf, "cmap": cmapFormat4([]bool{true, true, true, true}, []rune{0, 'o', 'l', 'c'}), "post": post})
	binary.BigEndian.PutUint32(b[findTable(b, "head")+8:], 0xB1B0AFBA-checksum(b))
	return b
}

func TestSubsetCompositeGlyphs(t *testing.T) {
	ttf := compositeFont(t)
	tables, err := parseSFNT(ttf)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		used      []int
		wantKept  []int
		wantEmpty []int
	}{
		{"simple glyph only", []int{2}, []int{0, 2}, []int{1, 3, 4, 5}},
		{"composite keeps its components, through another composite", []int{4}, []int{0, 1, 3, 4, 5}, []int{2}},
		{"nothing: .notdef", nil, []int{0}, []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			used := make([]bool, tables.numGlyphs)
			for _, g := range tt.used {
				used[g] = true
			}
			sub, err := tables.subset(used, nil)
			if err != nil {
				t.Fatal(err)
			}
			keep := make([]bool, tables.numGlyphs)
			for _, g := range tt.wantKept {
				keep[g] = true
			}
			checkSubset(t, ttf, sub, keep)
			st, err := parseSFNT(sub)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range tt.wantEmpty {
				if len(st.glyph(g)) != 0 {
					t.Errorf("glyph %d kept", g)
				}
			}
		})
	}
}

func TestParseSFNTRejects(t *testing.T) {
	ttf := compositeFont(t)
	trunc := func(n int) []byte { return ttf[:n] }
	badLoca := slices.Clone(ttf)
	lo := findTable(badLoca, "loca")
	binary.BigEndian.PutUint32(badLoca[lo+4:], 0xFFFFFF) // glyph 1 starts past glyf
	badComp := slices.Clone(ttf)
	gl := findTable(badComp, "glyf")
	st, _ := parseSFNT(ttf)
	binary.BigEndian.PutUint16(badComp[gl+int(st.loca[5])+12:], 999) // glyph 5 refers to glyph 999
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"not a font", []byte("%PDF-1.7 not a font at all")},
		{"CFF outlines", append([]byte("OTTO"), ttf[4:]...)},
		{"directory cut", trunc(40)},
		{"tables cut", trunc(len(ttf) / 2)},
		{"loca past glyf", badLoca},
	}
	for _, tt := range tests {
		if _, err := parseSFNT(tt.b); !errors.Is(err, ErrFont) {
			t.Errorf("%s: err = %v, want ErrFont", tt.name, err)
		}
	}
	tables, err := parseSFNT(badComp)
	if err != nil {
		t.Fatal(err)
	}
	used := []bool{false, false, false, false, true, false}
	if _, err := tables.subset(used, nil); !errors.Is(err, ErrFont) {
		t.Errorf("composite with a bad component: err = %v, want ErrFont", err)
	}
}

// FuzzSubset subsets arbitrary font bytes: parseSFNT and subset must fail
// with ErrFont or give a font whose kept glyphs are the original's.
func FuzzSubset(f *testing.F) {
	f.Add(compositeFont(f), []byte{0, 4})
	f.Add(compositeFont(f), []byte{2, 5, 3})
	f.Add([]byte("\x00\x01\x00\x00\x00\x01"), []byte{1})
	f.Fuzz(func(t *testing.T, ttf, glyphs []byte) {
		tables, err := parseSFNT(ttf)
		if err != nil {
			if !errors.Is(err, ErrFont) {
				t.Fatalf("err = %v, want ErrFont", err)
			}
			return
		}
		used := make([]bool, tables.numGlyphs)
		for _, g := range glyphs {
			if int(g) < len(used) {
				used[g] = true
			}
		}
		sub, err := tables.subset(used, nil)
		if err != nil {
			if !errors.Is(err, ErrFont) {
				t.Fatalf("err = %v, want ErrFont", err)
			}
			return
		}
		st, err := parseSFNT(sub)
		if err != nil {
			t.Fatalf("the subset does not parse: %v", err)
		}
		if st.numGlyphs != tables.numGlyphs {
			t.Fatalf("%d glyphs, want %d", st.numGlyphs, tables.numGlyphs)
		}
		for g, u := range used {
			if u && !bytes.Equal(st.glyph(g), tables.glyph(g)) && len(st.glyph(g)) < len(tables.glyph(g)) {
				t.Fatalf("glyph %d lost data", g)
			}
		}
	})
}

// glyphDoc sets every character of both Go fonts' Latin, Greek and
// Cyrillic ranges, in three sizes.
func glyphDoc(t testing.TB) *Document {
	reg, bold := fonts(t)
	d := testDoc(t)
	var sample strings.Builder
	for r := rune(0x21); r < 0x530; r++ {
		if reg.Covers(r) {
			sample.WriteRune(r)
		}
		if r%64 == 0 {
			sample.WriteString("\n")
		}
	}
	for _, size := range []float64{7, 10, 15} {
		d.Paragraph(Style{Font: reg, Size: size}, 0, sample.String())
		d.Paragraph(Style{Font: bold, Size: size}, 0, sample.String())
	}
	return d
}

// TestSubsetRendersTheSame draws every glyph with whole fonts and with
// subsets and compares the pages as pdftoppm renders them, pixel for
// pixel, and the text pdftotext extracts.
func TestSubsetRendersTheSame(t *testing.T) {
	pdftoppm, err1 := exec.LookPath("pdftoppm")
	pdftotext, err2 := exec.LookPath("pdftotext")
	if err1 != nil || err2 != nil {
		t.Skip("pdftoppm and pdftotext (poppler-utils) are not installed")
	}
	dir := t.TempDir()
	render := func(name string, full bool) (pages []image.Image, text string, size int) {
		d := glyphDoc(t)
		d.fullFonts = full
		pdf, err := d.PDF(Info{Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(in, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(pdftoppm, "-r", "110", "-png", in, filepath.Join(dir, name)).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v: %s", err, out)
		}
		for p := 1; ; p++ {
			f, err := os.Open(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, p)))
			if err != nil {
				break
			}
			img, err := png.Decode(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, img)
		}
		out, err := exec.Command(pdftotext, "-enc", "UTF-8", in, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		return pages, string(out), len(pdf)
	}
	wantPages, wantText, fullSize := render("full", true)
	gotPages, gotText, subSize := render("subset", false)
	t.Logf("whole fonts %d bytes, subsets %d bytes", fullSize, subSize)
	if len(wantPages) == 0 || len(gotPages) != len(wantPages) {
		t.Fatalf("%d pages with subsets, %d with whole fonts", len(gotPages), len(wantPages))
	}
	for p := range wantPages {
		a, b := wantPages[p], gotPages[p]
		if a.Bounds() != b.Bounds() {
			t.Fatalf("page %d: size %v, want %v", p+1, b.Bounds(), a.Bounds())
		}
		diff := 0
		for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
			for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
				if a.At(x, y) != b.At(x, y) {
					diff++
				}
			}
		}
		if diff != 0 {
			t.Errorf("page %d: %d pixels differ between whole fonts and subsets", p+1, diff)
		}
	}
	if gotText != wantText {
		t.Error("pdftotext extracts different text from the subsets")
	}
	if !strings.Contains(gotText, "ÆÇÈ") || !strings.Contains(gotText, "ЖЗИ") {
		t.Error("extracted text lacks Latin-1 or Cyrillic letters")
	}
	if subSize >= fullSize {
		t.Errorf("subsets %d bytes, whole fonts %d", subSize, fullSize)
	}
}
