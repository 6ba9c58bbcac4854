package pdfdoc

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// ErrCanonical is returned when a PDF pdfcpu wrote cannot be put in
// canonical form.
var ErrCanonical = errors.New("cannot make the written PDF reproducible")

// Write serialises ctx reproducibly: equal documents give equal bytes, on
// every run and machine. pdfcpu's writer alone does not: it sets the Info
// dictionary's CreationDate and ModDate and the second half of the file id
// from the clock, and writes objects in the order it meets them while
// walking dictionaries, which follows Go's randomised map iteration. Write
// therefore writes a classic cross-reference table (no object or xref
// streams), puts the objects in object-number order, restores the input's
// own CreationDate and ModDate (or leaves them out if it had none), and
// derives the file id from the resulting bytes (see [Canonical]). Without
// object streams the output is a few percent larger for PDFs of many small
// objects (0 to 10% on the corpus); image-heavy PDFs barely change.
//
// A panic inside pdfcpu's writer is not recovered here: the Runner recovers
// it at the stage boundary and, as it started in pdfcpu, reports it as a
// problem with the file (pipeline.Recover).
func Write(ctx *model.Context) ([]byte, error) {
	created, modified := infoDate(ctx, "CreationDate"), infoDate(ctx, "ModDate")
	ctx.WriteObjectStream = false
	ctx.WriteXRefStream = false
	var buf bytes.Buffer
	if err := api.WriteContext(ctx, &buf); err != nil {
		return nil, fmt.Errorf("writing the PDF: %w", err)
	}
	return Canonical(buf.Bytes(), created, modified)
}

// infoDate returns the PDF source form of an Info dictionary date of ctx
// ("(D:2020...)" or a hex string), or "" if it has none.
func infoDate(ctx *model.Context, key string) string {
	if ctx.Info == nil {
		return ""
	}
	d, err := ctx.DereferenceDict(*ctx.Info)
	if err != nil || d == nil {
		return ""
	}
	o, err := ctx.Dereference(d[key])
	if err != nil || o == nil {
		return ""
	}
	switch v := o.(type) {
	case types.StringLiteral:
		return v.PDFString()
	case types.HexLiteral:
		return v.PDFString()
	}
	return ""
}

var (
	infoRef   = regexp.MustCompile(`/Info\s*(\d+)\s+\d+\s+R`)
	objHead   = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+obj`)
	dateEntry = map[string]*regexp.Regexp{
		"CreationDate": regexp.MustCompile(`/CreationDate\s*\(D:[0-9+\-Z']*\)`),
		"ModDate":      regexp.MustCompile(`/ModDate\s*\(D:[0-9+\-Z']*\)`),
	}
	// fileID is the trailer's /ID: pdfcpu writes the second element, an
	// MD5 of the clock, as 32 upper-case hex digits.
	fileID = regexp.MustCompile(`/ID\s*\[\s*(<[0-9A-Fa-f]*>|\((?:[^()\\]|\\.)*\))\s*(<[0-9A-F]{32}>)\s*\]`)
)

// Canonical rewrites a PDF that pdfcpu wrote with a classic cross-reference
// table (one section, no object streams) so that its bytes depend only on
// its content: the objects in object-number order with the table rebuilt;
// the Info dictionary's CreationDate and ModDate set to created and
// modified (PDF source form, e.g. "(D:20200101000000Z)"; empty: left out);
// and the clock-derived element of the file id replaced by the MD5 of the
// result with that element zeroed (both elements when they were equal,
// i.e. pdfcpu made the id). Objects are located through the
// cross-reference table, never by scanning their (binary) content.
func Canonical(b []byte, created, modified string) ([]byte, error) {
	sx := bytes.LastIndex(b, []byte("startxref"))
	if sx < 0 {
		return nil, fmt.Errorf("%w: no startxref", ErrCanonical)
	}
	f := bytes.Fields(b[sx+len("startxref"):])
	if len(f) == 0 {
		return nil, fmt.Errorf("%w: no xref offset", ErrCanonical)
	}
	xref, err := strconv.Atoi(string(f[0]))
	if err != nil || xref <= 0 || xref >= sx || !bytes.HasPrefix(b[xref:], []byte("xref")) {
		return nil, fmt.Errorf("%w: not a classic cross-reference table", ErrCanonical)
	}
	tr := bytes.Index(b[xref:sx], []byte("trailer"))
	if tr < 0 {
		return nil, fmt.Errorf("%w: no trailer", ErrCanonical)
	}
	table, trailer := b[xref+len("xref"):xref+tr], slices.Clone(b[xref+tr:sx])

	type entry struct {
		nr, off int
		raw     []byte // the 20-byte entry
		inUse   bool
	}
	var (
		entries []entry
		heads   = map[int][]byte{} // index in entries -> subsection head line
		lines   = bytes.Fields(table)
	)
	for i := 0; i < len(lines); {
		if i+1 >= len(lines) {
			return nil, fmt.Errorf("%w: bad xref subsection", ErrCanonical)
		}
		start, err1 := strconv.Atoi(string(lines[i]))
		count, err2 := strconv.Atoi(string(lines[i+1]))
		if err1 != nil || err2 != nil || count < 0 || i+2+3*count > len(lines) {
			return nil, fmt.Errorf("%w: bad xref subsection", ErrCanonical)
		}
		heads[len(entries)] = fmt.Appendf(nil, "%d %d", start, count)
		for k := range count {
			off, e1 := strconv.Atoi(string(lines[i+2+3*k]))
			gen, e2 := strconv.Atoi(string(lines[i+3+3*k]))
			kind := string(lines[i+4+3*k])
			if e1 != nil || e2 != nil || (kind != "n" && kind != "f") {
				return nil, fmt.Errorf("%w: bad xref entry", ErrCanonical)
			}
			raw := fmt.Appendf(nil, "%010d %05d %s\r\n", off, gen, kind)
			entries = append(entries, entry{nr: start + k, off: off, raw: raw, inUse: kind == "n"})
		}
		i += 2 + 3*count
	}

	// Each object runs from its offset to the next object's (in file
	// order) or to the table.
	var used []int
	for i, e := range entries {
		if e.inUse {
			if e.off <= 0 || e.off >= xref {
				return nil, fmt.Errorf("%w: object %d at offset %d", ErrCanonical, e.nr, e.off)
			}
			used = append(used, i)
		}
	}
	if len(used) == 0 {
		return nil, fmt.Errorf("%w: no objects", ErrCanonical)
	}
	byOff := slices.Clone(used)
	slices.SortFunc(byOff, func(x, y int) int { return entries[x].off - entries[y].off })
	body := map[int][]byte{}
	for k, i := range byOff {
		end := xref
		if k+1 < len(byOff) {
			end = entries[byOff[k+1]].off
		}
		obj := b[entries[i].off:end]
		if m := objHead.FindSubmatch(obj); m == nil || string(m[1]) != strconv.Itoa(entries[i].nr) {
			return nil, fmt.Errorf("%w: object %d is not where the table says", ErrCanonical, entries[i].nr)
		}
		body[i] = obj
	}
	if m := infoRef.FindSubmatch(trailer); m != nil {
		nr, _ := strconv.Atoi(string(m[1]))
		for _, i := range used {
			if entries[i].nr == nr {
				obj := slices.Clone(body[i])
				for key, val := range map[string]string{"CreationDate": created, "ModDate": modified} {
					repl := ""
					if val != "" {
						repl = "/" + key + val
					}
					obj = dateEntry[key].ReplaceAllLiteral(obj, []byte(repl))
				}
				body[i] = obj
			}
		}
	}

	out := make([]byte, 0, len(b)+64)
	out = append(out, b[:entries[byOff[0]].off]...) // header
	slices.SortFunc(used, func(x, y int) int { return entries[x].nr - entries[y].nr })
	for _, i := range used {
		entries[i].raw = fmt.Appendf(nil, "%010d%s", len(out), entries[i].raw[10:])
		out = append(out, body[i]...)
	}
	newXref := len(out)
	out = append(out, "xref\n"...)
	for i, e := range entries {
		if h, ok := heads[i]; ok {
			out = append(append(out, h...), '\n')
		}
		out = append(out, e.raw...)
	}
	idAt := -1
	var idOld [2][]byte
	if m := fileID.FindSubmatchIndex(trailer); m != nil {
		idAt = len(out)
		idOld = [2][]byte{slices.Clone(trailer[m[2]:m[3]]), slices.Clone(trailer[m[4]:m[5]])}
		zero := []byte("<" + string(bytes.Repeat([]byte("0"), 32)) + ">")
		first := idOld[0]
		if bytes.Equal(first, idOld[1]) {
			first = zero
		}
		trailer = slices.Concat(trailer[:m[0]], []byte("/ID["), first, zero, []byte("]"), trailer[m[1]:])
		idAt += m[0]
	}
	out = append(out, trailer...)
	out = fmt.Appendf(out, "startxref\n%d\n%%%%EOF\n", newXref)
	if idAt >= 0 {
		sum := md5.Sum(out)
		id := []byte("<" + hexUpper(sum[:]) + ">")
		first := idOld[0]
		if bytes.Equal(first, idOld[1]) {
			first = id
		}
		rest := slices.Clone(out[idAt+len("/ID[")+len(first)+len(id)+len("]"):])
		out = append(slices.Concat(out[:idAt], []byte("/ID["), first, id, []byte("]")), rest...)
	}
	return out, nil
}

func hexUpper(b []byte) string {
	return string(bytes.ToUpper([]byte(hex.EncodeToString(b))))
}
