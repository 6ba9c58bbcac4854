package layout

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/internal/pdfdoc"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func fonts(t testing.TB) (*Font, *Font) {
	t.Helper()
	r, err := GoRegular()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GoBold()
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

func TestWrap(t *testing.T) {
	reg, _ := fonts(t)
	w := reg.Width("aaaa aaaa", 10) // room for exactly two four-letter words
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{""}},
		{"fits", "aaaa", []string{"aaaa"}},
		{"breaks at spaces", "aaaa aaaa aaaa", []string{"aaaa aaaa", "aaaa"}},
		{"keeps blank lines", "aaaa\n\naaaa", []string{"aaaa", "", "aaaa"}},
		{"trailing blank line", "aaaa\n", []string{"aaaa", ""}},
		{"trailing spaces kept text", "aaaa aaaa   ", []string{"aaaa aaaa"}},
		{"keeps indentation", "  aa", []string{"  aa"}},
		{"drops spaces at a break", "aaaa aaaa    aaaa", []string{"aaaa aaaa", "aaaa"}},
		{"keeps inner runs of spaces", "aa  aa", []string{"aa  aa"}},
		{"hard-breaks a long word", strings.Repeat("a", 20), []string{"aaaaaaaa", "aaaaaaaa", "aaaa"}}, // a space is narrower than an a
		{"long word after text", "aa " + strings.Repeat("a", 12), []string{"aa", "aaaaaaaa", "aaaa"}},
		{"unicode", "Zoë Ó'Brien – Ærøskøbing", []string{"Zoë", "Ó'Brien –", "Ærøskøbi", "ng"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Wrap(reg, 10, w, tt.text)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Wrap(%q) = %q, want %q", tt.text, got, tt.want)
			}
			for _, l := range got {
				if reg.Width(l, 10) > w+1e-9 && len([]rune(l)) > 1 {
					t.Errorf("line %q is wider than %v", l, w)
				}
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb\rc\nd", "a\nb\nc\nd"},
		{"tab\there", "tab    here"},
		{"bell\x07 nul\x00 del\x7f c1\u0085 zwsp\u200b", "bell nul del c1 zwsp"},
		{"line\u2028para\u2029end", "line\npara\nend"},
		{"bad \xff utf8", "bad  utf8"},
		{"soft\u00adhyphen", "softhyphen"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzWrap(f *testing.F) {
	f.Add("Zoë Ó'Brien – Ærøskøbing µg °C", 100.0)
	f.Add("aaaa\n\n  bb  cc \r\n"+strings.Repeat("x", 300), 30.0)
	f.Add("\t\u2028😀漢字", 1.0)
	reg, _ := fonts(f)
	f.Fuzz(func(t *testing.T, text string, width float64) {
		if !(width >= 1 && width <= 1000) {
			return
		}
		text = Clean(text)
		lines := Wrap(reg, 10, width, text)
		// No non-space character is lost, added or moved.
		if got, want := strings.Join(strings.Fields(strings.Join(lines, "")), ""), strings.Join(strings.Fields(text), ""); got != want {
			t.Fatalf("Wrap lost text: %q -> %q", text, lines)
		}
		if n := strings.Count(text, "\n") + 1; len(lines) < n {
			t.Fatalf("%d lines for %d paragraphs", len(lines), n)
		}
		for _, l := range lines {
			if reg.Width(l, 10) > width+1e-9 && len([]rune(l)) > 1 {
				t.Fatalf("line %q wider than %v", l, width)
			}
		}
	})
}

func TestFont(t *testing.T) {
	reg, bold := fonts(t)
	if reg.Name() != "GoRegular" || bold.Name() != "GoBold" {
		t.Errorf("names %q %q", reg.Name(), bold.Name())
	}
	for _, r := range "Zoë Ó'Brien – Ærøskøbing µg °C ŁłŐőŘřŠšŽžĞğİı€ Ωλ Жж" {
		if !reg.Covers(r) || !bold.Covers(r) {
			t.Errorf("font lacks %q", r)
		}
	}
	if m := reg.Missing("a😀b漢"); len(m) != 2 || m[0] != '😀' {
		t.Errorf("Missing = %q", m)
	}
	if reg.Width("", 10) != 0 || reg.Width("ab", 10) != reg.RuneWidth('a', 10)+reg.RuneWidth('b', 10) {
		t.Error("widths do not add up")
	}
	if reg.RuneWidth('-', 10) >= reg.RuneWidth(0x2212, 10) {
		t.Error("hyphen as wide as a minus sign")
	}
	if reg.Ascent(10) <= 0 || reg.Descent(10) <= 0 {
		t.Error("bad vertical metrics")
	}
	if _, err := NewFont("bad name", nil); err == nil {
		t.Error("NewFont accepted a bad name")
	}
	if _, err := NewFont("Bad", []byte("not a font")); err == nil {
		t.Error("NewFont accepted bad data")
	}
}

func testDoc(t testing.TB) *Document {
	reg, bold := fonts(t)
	d := New(Margins{Top: 40, Right: 40, Bottom: 40, Left: 40})
	d.Header = func(p *Page, n int) float64 {
		p.FillRect(40, 40, d.ContentWidth(), 20, Hex(0x005EB8))
		p.Text(44, 42, Style{Font: bold, Size: 12, Color: Color{1, 1, 1}}, "Header")
		return 30
	}
	d.Footer = func(p *Page, n, total int) {
		p.Line(40, d.Height-36, d.Width-40, d.Height-36, 0.5, Hex(0))
		p.TextRight(d.Width-40, d.Height-34, Style{Font: reg, Size: 8}, fmt.Sprintf("Page %d of %d", n, total))
	}
	return d
}

func TestDocumentFlowsOverPages(t *testing.T) {
	reg, _ := fonts(t)
	d := testDoc(t)
	st := Style{Font: reg, Size: 10}
	for i := range 150 {
		d.Paragraph(st, 0, fmt.Sprintf("Paragraph %d: Zoë Ó'Brien – Ærøskøbing, 5 µg at 37 °C.", i))
		if d.Y() > d.Height-d.Margins.Bottom+1e-9 {
			t.Fatalf("paragraph %d ends below the bottom margin", i)
		}
	}
	if d.Pages() < 3 {
		t.Fatalf("pages = %d, want 3 or more", d.Pages())
	}
	pdf, err := d.PDF(Info{Title: "Test", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	conf := Configuration()
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pdf, []byte("/CreationDate(D:20260102030405+00'00')")) {
		t.Error("creation date not stamped")
	}
}

func TestRowSplitsOverPages(t *testing.T) {
	reg, bold := fonts(t)
	d := testDoc(t)
	headers := 0
	long := strings.Repeat("word ", 3000)
	d.Row([]Cell{
		{Text: "Title", Style: Style{Font: bold, Size: 10}, Width: 100},
		{Text: long, Style: Style{Font: reg, Size: 10}, Width: d.ContentWidth() - 100},
	}, RowOptions{Padding: 2, OnNewPage: func() { headers++ }})
	if d.Pages() < 2 || headers != d.Pages()-1 {
		t.Errorf("pages %d, header repeated %d times", d.Pages(), headers)
	}
	if d.Y() > d.Height-d.Margins.Bottom {
		t.Error("row ends below the bottom margin")
	}
}

func TestRowMovesToNextPageWhole(t *testing.T) {
	reg, _ := fonts(t)
	d := testDoc(t)
	st := Style{Font: reg, Size: 10}
	for d.Remaining() > 2*st.LineHeight() {
		d.Paragraph(st, 0, "filler")
	}
	d.Paragraph(st, 0, strings.Repeat("three lines of text ", 60))
	if d.Pages() != 2 {
		t.Errorf("pages = %d: a row that fits on a fresh page should move there whole", d.Pages())
	}
}

func TestMaxPages(t *testing.T) {
	reg, _ := fonts(t)
	d := testDoc(t)
	d.MaxPages = 2
	d.Paragraph(Style{Font: reg, Size: 10}, 0, strings.Repeat("many words\n", 500))
	if _, err := d.PDF(Info{}); !errors.Is(err, ErrTooManyPages) {
		t.Errorf("err = %v, want ErrTooManyPages", err)
	}
}

func TestEnsure(t *testing.T) {
	d := testDoc(t)
	if d.Ensure(10) || !d.AtTop() {
		t.Error("Ensure started a page on an empty one")
	}
	d.Advance(d.Remaining() - 5)
	if !d.Ensure(10) || d.Pages() != 2 {
		t.Error("Ensure did not start a page when short of room")
	}
}

func TestCanonicalRejectsGarbage(t *testing.T) {
	for _, b := range []string{"", "%PDF-1.7\nstartxref\n99\n%%EOF", "%PDF-1.7\nxref\n0 1\nstartxref\n9\n"} {
		if _, err := pdfdoc.Canonical([]byte(b), "", ""); err == nil {
			t.Errorf("pdfdoc.Canonical(%q) succeeded", b)
		}
	}
}

func ExampleWrap() {
	f, err := GoRegular()
	if err != nil {
		panic(err)
	}
	for _, line := range Wrap(f, 10, 80, "Paracetamol 500 mg as needed.\n\nReview in 7 days.") {
		fmt.Printf("%q\n", line)
	}
	// Output:
	// "Paracetamol 500"
	// "mg as needed."
	// ""
	// "Review in 7 days."
}

func TestTruncate(t *testing.T) {
	reg, _ := fonts(t)
	tests := []struct {
		s     string
		width float64
		want  string
	}{
		{"short", 100, "short"},
		{"Ó'BRIEN, Zoë (Ms)   NHS No 969 093 7286", 60, "Ó'BRIEN,…"},
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		got := reg.Truncate(tt.s, 10, tt.width)
		if got != tt.want {
			t.Errorf("Truncate(%q, %v) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
		if got != "…" && reg.Width(got, 10) > tt.width {
			t.Errorf("Truncate(%q) = %q is too wide", tt.s, got)
		}
	}
}

func TestTallRowSplitsWhereItStarts(t *testing.T) {
	reg, _ := fonts(t)
	d := testDoc(t)
	st := Style{Font: reg, Size: 10}
	for d.Remaining() > (d.Height-d.Margins.Top-d.Margins.Bottom)/2 {
		d.Paragraph(st, 0, "filler")
	}
	const lines = 60 // more than a quarter of a page, less than a page
	d.Paragraph(st, 0, strings.Repeat("line\n", lines-1)+"line")
	if d.Pages() != 2 {
		t.Fatalf("pages = %d, want 2", d.Pages())
	}
	if onPage2 := (d.Y() - d.top) / st.LineHeight(); onPage2 > lines-10 {
		t.Errorf("%.0f of %d lines on page 2: a tall row should start on page 1", onPage2, lines)
	}
}
