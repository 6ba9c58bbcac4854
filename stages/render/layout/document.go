package layout

import (
	"errors"
	"fmt"
	"strconv"
)

// A4 page size in points.
const (
	A4Width  = 595.28
	A4Height = 841.89
)

// ErrTooManyPages is returned when a document would exceed Document.MaxPages.
var ErrTooManyPages = errors.New("layout: too many pages")

// Color is an RGB colour with components from 0 to 1.
type Color struct{ R, G, B float64 }

// Hex returns the colour 0xRRGGBB.
func Hex(rgb uint32) Color {
	return Color{float64(rgb>>16&0xFF) / 255, float64(rgb>>8&0xFF) / 255, float64(rgb&0xFF) / 255}
}

// Style is how a run of text is set.
type Style struct {
	Font  *Font
	Size  float64 // points
	Color Color
	// Leading is the line height as a multiple of Size (0 means 1.3).
	Leading float64
}

// LineHeight is the distance between the tops of two lines, in points.
func (s Style) LineHeight() float64 {
	l := s.Leading
	if l == 0 {
		l = 1.3
	}
	return s.Size * l
}

// baseline is the offset of the baseline below the top of a line box.
func (s Style) baseline() float64 {
	asc, desc := s.Font.Ascent(s.Size), s.Font.Descent(s.Size)
	return (s.LineHeight()-(asc+desc))/2 + asc
}

// Page is one page's content. Coordinates are in points from the top-left
// corner, y growing downwards.
type Page struct {
	doc     *Document
	content []byte
	fonts   []*Font // fonts used, in order of first use: resource F<i>
}

func (p *Page) fontKey(f *Font) int {
	for i, g := range p.fonts {
		if g == f {
			return i
		}
	}
	p.fonts = append(p.fonts, f)
	return len(p.fonts) - 1
}

func (p *Page) num(v float64) {
	p.content = strconv.AppendFloat(p.content, v, 'f', -1, 64)
	p.content = append(p.content, ' ')
}

func (p *Page) round(v float64) float64 {
	return float64(int64(v*100+0.5*sign(v))) / 100
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}

func (p *Page) color(c Color, op string) {
	p.num(p.round(c.R))
	p.num(p.round(c.G))
	p.num(p.round(c.B))
	p.content = append(p.content, op...)
	p.content = append(p.content, '\n')
}

// Text sets s in style st with the top of its line box at (x, y).
func (p *Page) Text(x, y float64, st Style, s string) {
	if s == "" {
		return
	}
	p.doc.noteMissing(st.Font, s)
	p.content = append(p.content, "BT\n"...)
	p.content = append(p.content, "/F"...)
	p.content = strconv.AppendInt(p.content, int64(p.fontKey(st.Font)), 10)
	p.content = append(p.content, ' ')
	p.num(st.Size)
	p.content = append(p.content, "Tf\n"...)
	p.color(st.Color, "rg")
	p.num(p.round(x))
	p.num(p.round(p.doc.Height - y - st.baseline()))
	p.content = append(p.content, "Td\n"...)
	p.content = st.Font.appendHex(p.content, s, p.doc.glyphsUsed(st.Font))
	p.content = append(p.content, " Tj\nET\n"...)
}

// TextRight sets s so that it ends at x.
func (p *Page) TextRight(x, y float64, st Style, s string) {
	p.Text(x-st.Font.Width(s, st.Size), y, st, s)
}

// TextCenter sets s centred on x.
func (p *Page) TextCenter(x, y float64, st Style, s string) {
	p.Text(x-st.Font.Width(s, st.Size)/2, y, st, s)
}

// FillRect fills the rectangle with top-left corner (x, y).
func (p *Page) FillRect(x, y, w, h float64, c Color) {
	p.color(c, "rg")
	p.num(p.round(x))
	p.num(p.round(p.doc.Height - y - h))
	p.num(p.round(w))
	p.num(p.round(h))
	p.content = append(p.content, "re f\n"...)
}

// Line draws a line of the given width from (x1, y1) to (x2, y2).
func (p *Page) Line(x1, y1, x2, y2, width float64, c Color) {
	p.num(width)
	p.content = append(p.content, "w\n"...)
	p.color(c, "RG")
	p.num(p.round(x1))
	p.num(p.round(p.doc.Height - y1))
	p.content = append(p.content, "m "...)
	p.num(p.round(x2))
	p.num(p.round(p.doc.Height - y2))
	p.content = append(p.content, "l S\n"...)
}

// Margins are the page margins in points. The header is drawn inside the
// top margin area's lower part (see Document.Header), the footer inside the
// bottom margin.
type Margins struct{ Top, Right, Bottom, Left float64 }

// Document flows content over pages. Set the exported fields, then add
// content with Paragraph, Row and the cursor methods, then call PDF. A
// Document is not safe for concurrent use; different Documents are
// independent.
type Document struct {
	Width, Height float64
	Margins       Margins
	// Header, if set, draws the running header on every new page, at the
	// top margin, and returns the height it used; body content starts
	// below it.
	Header func(p *Page, number int) float64
	// Footer, if set, draws the running footer on every page once the page
	// count is known (for "Page x of y").
	Footer func(p *Page, number, total int)
	// MaxPages stops runaway input: adding content beyond it fails with
	// ErrTooManyPages (0 means no limit).
	MaxPages int

	pages   []*Page
	y       float64 // cursor: top of the next content, from the page top
	top     float64 // where the current page's body starts
	missing []rune
	err     error
	used    map[*Font][]bool // glyphs set, by font, indexed by glyph id
	// fullFonts embeds whole font programs instead of subsets (for tests
	// that compare the two).
	fullFonts bool
}

// glyphsUsed returns the set of glyphs of f the document has set.
func (d *Document) glyphsUsed(f *Font) []bool {
	u, ok := d.used[f]
	if !ok {
		if d.used == nil {
			d.used = map[*Font][]bool{}
		}
		u = make([]bool, len(f.advance))
		d.used[f] = u
	}
	return u
}

// New returns an A4 document with the given margins.
func New(m Margins) *Document {
	return &Document{Width: A4Width, Height: A4Height, Margins: m}
}

// Err returns the first error the document met (ErrTooManyPages).
func (d *Document) Err() error { return d.err }

// Pages is the number of pages so far.
func (d *Document) Pages() int { return len(d.pages) }

// Missing lists the characters the fonts could not draw (drawn as '?').
func (d *Document) Missing() []rune { return d.missing }

func (d *Document) noteMissing(f *Font, s string) {
	for _, r := range f.Missing(s) {
		if !containsRune(d.missing, r) {
			d.missing = append(d.missing, r)
		}
	}
}

// Page returns the current page, starting the first one if needed.
func (d *Document) Page() *Page {
	if len(d.pages) == 0 {
		d.NewPage()
	}
	return d.pages[len(d.pages)-1]
}

// NewPage starts a new page and draws its header.
func (d *Document) NewPage() {
	if d.MaxPages > 0 && len(d.pages) >= d.MaxPages {
		if d.err == nil {
			d.err = fmt.Errorf("%w: more than %d", ErrTooManyPages, d.MaxPages)
		}
		// Keep drawing over the last page so callers need not check every
		// call; PDF returns the error.
		d.y = d.top
		return
	}
	p := &Page{doc: d}
	d.pages = append(d.pages, p)
	d.y = d.Margins.Top
	if d.Header != nil {
		d.y += d.Header(p, len(d.pages))
	}
	d.top = d.y
}

// Left is the x of the left margin; ContentWidth the width between margins.
func (d *Document) Left() float64 { return d.Margins.Left }

// ContentWidth is the width between the left and right margins.
func (d *Document) ContentWidth() float64 { return d.Width - d.Margins.Left - d.Margins.Right }

// Y is the cursor: where the next content's top goes.
func (d *Document) Y() float64 { d.Page(); return d.y }

// bottom is the lowest y body content may reach.
func (d *Document) bottom() float64 { return d.Height - d.Margins.Bottom }

// Remaining is the height left for body content on the current page.
func (d *Document) Remaining() float64 { d.Page(); return d.bottom() - d.y }

// AtTop reports whether nothing has been placed on the current page's body.
func (d *Document) AtTop() bool { d.Page(); return d.y <= d.top }

// Advance moves the cursor down by h (never onto the next page: a gap at the
// bottom of a page is simply dropped).
func (d *Document) Advance(h float64) {
	d.Page()
	d.y = min(d.y+h, d.bottom())
}

// Ensure starts a new page unless h points fit on the current one (or the
// current page is still empty). It reports whether it started a page.
func (d *Document) Ensure(h float64) bool {
	if d.Remaining() >= h || d.AtTop() {
		return false
	}
	d.NewPage()
	return true
}

// Cell is one cell of a Row: text wrapped to the column width.
type Cell struct {
	Text  string
	Style Style
	Width float64 // column width, padding included
	Right bool    // align right
	Fill  *Color  // background, if any
	// Continued, if set, is shown in the cell on the later parts of a row
	// split over pages, once the cell's own text is done (e.g. "History
	// (continued)" beside the rest of the notes).
	Continued string
}

// RowOptions control how a Row is drawn.
type RowOptions struct {
	X       float64 // left edge of the first cell (0 means the left margin)
	Padding float64 // inside each cell, all sides
	// Rule, if set, is drawn as a thin line under the row (and under each
	// part of a row split over pages).
	Rule *Color
	// OnNewPage is called after the row moves to a new page, to repeat a
	// table header; it draws at the cursor and advances it.
	OnNewPage func()
}

// Row lays out cells side by side, each wrapped to its width, and advances
// the cursor below the tallest. A short row (up to a quarter of the page
// body) that does not fit moves to a new page; a taller one is split
// between lines, leaving at least two lines on each page.
func (d *Document) Row(cells []Cell, o RowOptions) {
	if d.err != nil {
		return // over MaxPages: PDF reports it
	}
	x0 := o.X
	if x0 == 0 {
		x0 = d.Margins.Left
	}
	lines := make([][]string, len(cells))
	cont := make([][]string, len(cells))
	pitch, n := 0.0, 0
	for i, c := range cells {
		lines[i] = Wrap(c.Style.Font, c.Style.Size, max(c.Width-2*o.Padding, 1), Clean(c.Text))
		if c.Continued != "" {
			cont[i] = Wrap(c.Style.Font, c.Style.Size, max(c.Width-2*o.Padding, 1), Clean(c.Continued))
		}
		pitch = max(pitch, c.Style.LineHeight())
		n = max(n, len(lines[i]))
	}
	if n == 0 {
		return
	}
	height := float64(n)*pitch + 2*o.Padding
	// A short row that does not fit moves to the next page whole; a tall one
	// is split, but leaves at least two lines (or all of them) behind.
	short := height <= (d.bottom()-d.top)/4
	minLines := min(n, 2)
	if d.Remaining() < height && !d.AtTop() &&
		(short || int((d.Remaining()-2*o.Padding)/pitch) < minLines) {
		d.NewPage()
		if o.OnNewPage != nil {
			o.OnNewPage()
		}
	}
	for from := 0; from < n && d.err == nil; {
		fit := int((d.Remaining() - 2*o.Padding) / pitch)
		if n-from-fit == 1 && fit > 2 {
			fit-- // no single line alone at the top of the next page
		}
		if fit < 1 {
			if d.AtTop() {
				fit = 1 // a page cannot hold one line: overflow rather than loop
			} else {
				d.NewPage()
				if o.OnNewPage != nil {
					o.OnNewPage()
				}
				continue
			}
		}
		to := min(n, from+fit)
		h := float64(to-from)*pitch + 2*o.Padding
		p := d.Page()
		x := x0
		for i, c := range cells {
			if c.Fill != nil {
				p.FillRect(x, d.y, c.Width, h, *c.Fill)
			}
			show, first := lines[i], from
			if from > 0 && from >= len(lines[i]) && cont[i] != nil {
				show, first = cont[i], 0
			}
			for k := first; k < first+to-from && k < len(show); k++ {
				y := d.y + o.Padding + float64(k-first)*pitch + (pitch-c.Style.LineHeight())/2
				if c.Right {
					p.TextRight(x+c.Width-o.Padding, y, c.Style, show[k])
				} else {
					p.Text(x+o.Padding, y, c.Style, show[k])
				}
			}
			x += c.Width
		}
		if o.Rule != nil {
			p.Line(x0, d.y+h, x, d.y+h, 0.5, *o.Rule)
		}
		d.y += h
		from = to
	}
}

// Paragraph wraps text in style st across the content width, starting at
// the cursor and flowing over pages, indented by indent points.
func (d *Document) Paragraph(st Style, indent float64, text string) {
	d.Row([]Cell{{Text: text, Style: st, Width: d.ContentWidth() - indent}}, RowOptions{X: d.Margins.Left + indent})
}
