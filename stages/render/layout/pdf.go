package layout

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/create"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/internal/pdfcpusetup"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
)

// Info is the document information written into the PDF.
type Info struct {
	Title   string // ASCII; shown by PDF viewers as the window title
	Creator string // the application that made the document
	// Created is the creation (and modification) date. pdfcpu stamps the
	// wall clock; PDF replaces it with this time, in UTC.
	Created time.Time
	// ID is the file identifier. If zero, it is derived from the
	// document's bytes, so equal input gives equal bytes.
	ID [16]byte
}

var (
	pdfcpuOnce sync.Once
	baseConf   model.Configuration
)

// initPDFCPU keeps pdfcpu out of the user's config directory (with a nil
// configuration it would create one under $HOME and install fonts there),
// once per process, before any concurrent use.
func initPDFCPU() {
	pdfcpuOnce.Do(func() {
		pdfcpusetup.Do()
		baseConf = *model.NewDefaultConfiguration()
		baseConf.ValidationMode = model.ValidationRelaxed
	})
}

// Configuration returns a fresh pdfcpu configuration that does not use a
// config directory, for callers (tests) that validate or read the PDFs.
func Configuration() *model.Configuration {
	initPDFCPU()
	c := baseConf
	return &c
}

// PDF finishes the document (drawing the footers) and returns it as PDF
// bytes. Call it once.
func (d *Document) PDF(info Info) (out []byte, err error) {
	d.Page()
	if d.err != nil {
		return nil, d.err
	}
	if d.Footer != nil {
		for i, p := range d.pages {
			d.Footer(p, i+1, len(d.pages))
		}
	}
	initPDFCPU()
	// pdfcpu panics on some internal errors. On what this package builds
	// that is a bug, not damaged input: it is left to the Runner, which
	// reports it as an internal error with its stack.
	ctx, err := pdfcpu.CreateContextWithXRefTable(Configuration(), &types.Dim{Width: d.Width, Height: d.Height})
	if err != nil {
		return nil, fmt.Errorf("layout: create PDF: %w", err)
	}
	xt := ctx.XRefTable

	fonts := model.FontMap{}
	var fontRefs = map[*Font]*types.IndirectRef{}
	mediaBox := types.RectForDim(d.Width, d.Height)
	pages := make([]*model.Page, len(d.pages))
	for i, p := range d.pages {
		mp := model.NewPage(mediaBox, mediaBox)
		mp.Buf.Write(p.content)
		for k, f := range p.fonts {
			ir, ok := fontRefs[f]
			if !ok {
				if ir, err = addFont(xt, f, d.glyphsUsed(f), d.fullFonts); err != nil {
					return nil, err
				}
				fontRefs[f] = ir
				fonts[f.name] = model.FontResource{Res: model.Resource{IndRef: ir}}
			}
			mp.Fm[f.name] = model.FontResource{Res: model.Resource{ID: "F" + strconv.Itoa(k), IndRef: ir}}
		}
		pages[i] = &mp
	}
	if _, _, err := create.UpdatePageTree(ctx, pages, fonts); err != nil {
		return nil, fmt.Errorf("layout: build page tree: %w", err)
	}

	infoDict := types.NewDict()
	if info.Title != "" {
		infoDict.InsertString("Title", asciiOnly(info.Title))
	}
	if info.Creator != "" {
		infoDict.InsertString("Creator", asciiOnly(info.Creator))
	}
	if xt.Info, err = xt.IndRefForNewObject(infoDict); err != nil {
		return nil, fmt.Errorf("layout: info dict: %w", err)
	}

	var buf bytes.Buffer
	buf.Grow(64 << 10)
	ctx.Configuration.WriteObjectStream = false
	ctx.Configuration.WriteXRefStream = false
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, fmt.Errorf("layout: write PDF: %w", err)
	}
	// pdfdoc.Canonical puts the objects in number order, sets the Info
	// dates to info.Created and derives the file id from the bytes, where
	// pdfcpu used map order and the wall clock: equal input, equal bytes.
	date := "(" + types.DateString(info.Created.UTC()) + ")"
	b, err := pdfdoc.Canonical(buf.Bytes(), date, date)
	if err != nil {
		return nil, fmt.Errorf("layout: %w", err)
	}
	if info.ID != ([16]byte{}) {
		if err := stampID(b, info.ID); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return '?'
		}
		return r
	}, s)
}

var errStamp = errors.New("layout: cannot stamp date and id into the PDF")

// stampID overwrites, in place and at the same length, both elements of
// the file id with id. Offsets in the cross-reference table stay valid.
func stampID(b []byte, id [16]byte) error {
	const key = "/ID[<"
	i := bytes.LastIndex(b, []byte(key))
	if i < 0 {
		return fmt.Errorf("%w: no /ID", errStamp)
	}
	i += len(key)
	hexID := []byte(strings.ToUpper(hex.EncodeToString(id[:])))
	if len(b) < i+2*len(hexID)+3 || b[i+len(hexID)] != '>' {
		return fmt.Errorf("%w: unexpected /ID", errStamp)
	}
	copy(b[i:], hexID)
	j := i + len(hexID) + 1
	for j < len(b) && b[j] != '<' {
		j++
	}
	if len(b) < j+1+len(hexID) || b[j+1+len(hexID)] != '>' {
		return fmt.Errorf("%w: unexpected /ID", errStamp)
	}
	copy(b[j+1:], hexID)
	return nil
}

// addFont writes a Type0 font with an Identity-H encoding, whose
// descendant is a CIDFontType2 with CIDs equal to glyph ids, a subset of the
// TrueType program embedded (FontFile2: the glyphs in used, under their own
// ids), the widths of those glyphs, and a ToUnicode map so that text can be
// extracted. The subset's name carries a tag derived from the glyph set
// ("ABCDEF+GoRegular", ISO 32000-1 9.6.4), never a random one. full embeds
// the whole program instead.
func addFont(xt *model.XRefTable, f *Font, used []bool, full bool) (*types.IndirectRef, error) {
	program, name := f.ttf, f.name
	if !full {
		var err error
		if program, err = f.sfnt.subset(used, f.toRune); err != nil {
			return nil, fmt.Errorf("layout: subset font %s: %w", f.name, err)
		}
		name = subsetTag(used) + "+" + f.name
	}
	packed, err := compress(program)
	if err != nil {
		return nil, fmt.Errorf("layout: font %s: compress: %w", f.name, err)
	}
	fontFile, err := rawStream(xt, packed, map[string]types.Object{"Length1": types.Integer(len(program))})
	if err != nil {
		return nil, err
	}
	cmap, err := compress(f.toUnicodeCMap(used))
	if err != nil {
		return nil, fmt.Errorf("layout: font %s: compress: %w", f.name, err)
	}
	toUnicode, err := rawStream(xt, cmap, nil)
	if err != nil {
		return nil, err
	}
	scale := func(v float64) types.Object { return types.Integer(int(v * 1000 / f.unitsPerEm)) }
	flags := 32 // nonsymbolic
	if f.fixedPitch {
		flags |= 1
	}
	if f.italicAngle != 0 {
		flags |= 64
	}
	stemV := 80
	if strings.Contains(f.name, "Bold") {
		stemV = 140
	}
	desc := types.Dict{
		"Type":        types.Name("FontDescriptor"),
		"FontName":    types.Name(name),
		"Flags":       types.Integer(flags),
		"FontBBox":    types.Array{scale(f.bbox[0]), scale(f.bbox[1]), scale(f.bbox[2]), scale(f.bbox[3])},
		"ItalicAngle": types.Float(f.italicAngle),
		"Ascent":      scale(f.ascent),
		"Descent":     scale(f.descent),
		"CapHeight":   scale(f.capHeight),
		"StemV":       types.Integer(stemV),
		"FontFile2":   *fontFile,
	}
	descRef, err := xt.IndRefForNewObject(desc)
	if err != nil {
		return nil, fmt.Errorf("layout: font descriptor: %w", err)
	}
	cid := types.Dict{
		"Type":     types.Name("Font"),
		"Subtype":  types.Name("CIDFontType2"),
		"BaseFont": types.Name(name),
		"CIDSystemInfo": types.Dict{
			"Registry":   types.StringLiteral("Adobe"),
			"Ordering":   types.StringLiteral("Identity"),
			"Supplement": types.Integer(0),
		},
		"FontDescriptor": *descRef,
		"CIDToGIDMap":    types.Name("Identity"),
		"DW":             types.Integer(f.notdefWidth),
		"W":              f.widthArray(used),
	}
	cidRef, err := xt.IndRefForNewObject(cid)
	if err != nil {
		return nil, fmt.Errorf("layout: CID font: %w", err)
	}
	type0 := types.Dict{
		"Type":            types.Name("Font"),
		"Subtype":         types.Name("Type0"),
		"BaseFont":        types.Name(name),
		"Encoding":        types.Name("Identity-H"),
		"DescendantFonts": types.Array{*cidRef},
		"ToUnicode":       *toUnicode,
	}
	ref, err := xt.IndRefForNewObject(type0)
	if err != nil {
		return nil, fmt.Errorf("layout: font: %w", err)
	}
	return ref, nil
}

// widthArray is the CIDFont W array for the used glyphs: one
// "first [w1 w2 ...]" entry per run of consecutive glyph ids.
func (f *Font) widthArray(used []bool) types.Array {
	var w types.Array
	for g := 0; g < len(used); {
		if !used[g] {
			g++
			continue
		}
		var run types.Array
		first := g
		for ; g < len(used) && used[g]; g++ {
			run = append(run, types.Integer(f.widthsPDF[g]))
		}
		w = append(w, types.Integer(first), run)
	}
	return w
}

// subsetTag is the six capital letters that name a font subset, derived
// from the set of glyphs it holds.
func subsetTag(used []bool) string {
	h := sha256.New()
	var b [2]byte
	for g, u := range used {
		if u {
			binary.BigEndian.PutUint16(b[:], uint16(g))
			h.Write(b[:])
		}
	}
	sum := h.Sum(nil)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	return string(tag)
}

// rawStream adds a stream whose bytes are already Flate-encoded.
func rawStream(xt *model.XRefTable, raw []byte, extra map[string]types.Object) (*types.IndirectRef, error) {
	n := int64(len(raw))
	d := types.Dict{"Filter": types.Name("FlateDecode"), "Length": types.Integer(n)}
	for k, v := range extra {
		d[k] = v
	}
	sd := types.StreamDict{
		Dict:           d,
		Raw:            raw,
		StreamLength:   &n,
		FilterPipeline: []types.PDFFilter{{Name: "FlateDecode"}},
	}
	ir, err := xt.IndRefForNewObject(sd)
	if err != nil {
		return nil, fmt.Errorf("layout: font stream: %w", err)
	}
	return ir, nil
}
