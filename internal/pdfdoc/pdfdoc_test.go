package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

func example(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "examples", "discharge-letter.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckTrailer(t *testing.T) {
	pdf := example(t)
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"example", pdf, true},
		{"junk before the header", append([]byte("junk\n"), pdf...), true},
		{"trailing whitespace", append(bytes.Clone(pdf), "\n\n"...), true},
		{"no header", pdf[9:], false},
		{"cut short", pdf[:len(pdf)-40], false},
		{"data appended", append(bytes.Clone(pdf), bytes.Repeat([]byte("x"), 2000)...), false},
		{"startxref without offset", bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\nx"), 1), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		err := CheckTrailer(tt.in)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrCorrupt)) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestActive(t *testing.T) {
	Setup()
	ctx, err := api.ReadContext(bytes.NewReader(example(t)), model.NewDefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	if err := api.ValidateContext(ctx); err != nil {
		t.Fatal(err)
	}
	root, _ := ctx.Catalog()
	js := types.Dict{"S": types.Name("JavaScript"), "JS": types.StringLiteral("app.alert(1)")}
	root["OpenAction"] = types.Dict{"S": types.Name("GoTo"), "D": types.Array{types.Integer(0)}, "Next": js}
	root["Names"] = types.Dict{"JavaScript": types.Dict{}, "EmbeddedFiles": types.Dict{}}
	root["AcroForm"] = types.Dict{"XFA": types.Array{}}
	page, pageRef, _, err := ctx.PageDict(1, false)
	if err != nil {
		t.Fatal(err)
	}
	link := func(action types.Dict) types.Dict {
		return types.Dict{"Type": types.Name("Annot"), "Subtype": types.Name("Link"),
			"Rect": types.Array{types.Integer(0), types.Integer(0), types.Integer(10), types.Integer(10)}, "A": action}
	}
	page["Annots"] = types.Array{
		link(types.Dict{"S": types.Name("Launch"), "F": types.StringLiteral("cmd.exe")}),
		link(types.Dict{"S": types.Name("URI"), "URI": types.StringLiteral("https://www.nhs.uk")}),
	}
	found := FindActive(ctx)
	want := []string{
		"JavaScript action (document OpenAction)",
		"document JavaScript (document /Names /JavaScript)",
		"embedded files (document /Names /EmbeddedFiles)",
		"XFA form (may hold scripts) (document /AcroForm /XFA)",
		"Launch action (object " + fmt.Sprint(pageRef.ObjectNumber) + " /Annots[0] /A)",
	}
	if len(found) != len(want) {
		t.Fatalf("found %v", found)
	}
	for i := range want {
		if found[i].String() != want[i] {
			t.Errorf("finding %d = %q, want %q", i, found[i], want[i])
		}
	}
	removed := RemoveActive(ctx)
	if len(removed) != len(want) {
		t.Errorf("removed %v", removed)
	}
	if left := FindActive(ctx); len(left) != 0 {
		t.Errorf("left after removal: %v", left)
	}
	out, err := Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Open(out, 1e6)
	if err != nil {
		t.Fatal(err)
	}
	if left := FindActive(doc.Ctx); len(left) != 0 {
		t.Errorf("left after write: %v", left)
	}
	if err := api.ValidateContext(doc.Ctx); err != nil {
		t.Fatal(err)
	}
	page, _, _, err = doc.Ctx.PageDict(1, false)
	if err != nil {
		t.Fatal(err)
	}
	annots, _ := doc.Ctx.Dereference(page["Annots"])
	var uris int
	for _, a := range annots.(types.Array) {
		d, _ := doc.Ctx.DereferenceDict(a)
		if act, ok := d["A"]; ok {
			ad, _ := doc.Ctx.DereferenceDict(act)
			if s := ad.NameEntry("S"); s != nil && *s == "URI" {
				uris++
			}
		}
	}
	if uris != 1 {
		t.Errorf("%d web links left, want 1", uris)
	}
}

func TestOpenRefusesBrokenFiles(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("%PDF-1.7\n%%EOF"), []byte("%PDF-1.4\nstartxref\n0\n%%EOF")} {
		if _, err := Open(b, 1e6); err == nil {
			t.Errorf("Open(%q) = nil error", b)
		}
	}
}

// TestParsedFor: a parsed PDF is reused only for the very bytes it was
// opened from, and only when its pixel limit was at least as strict.
func TestParsedFor(t *testing.T) {
	data := example(t)
	doc, err := Open(data, 1000)
	if err != nil {
		t.Fatal(err)
	}
	p := NewParsed(data, 1000, doc)
	tests := []struct {
		name      string
		p         *Parsed
		data      []byte
		maxPixels int64
		want      bool
	}{
		{"same bytes, same limit", p, data, 1000, true},
		{"same bytes, laxer limit asked", p, data, 5000, true},
		{"same bytes, stricter limit asked", p, data, 999, false},
		{"a copy of the bytes", p, bytes.Clone(data), 1000, false},
		{"a prefix of the bytes", p, data[:len(data)-1], 1000, false},
		{"no bytes", p, nil, 1000, false},
		{"nothing parsed", nil, data, 1000, false},
		{"opened without a limit", NewParsed(data, 0, doc), data, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.For(tt.data, tt.maxPixels); (got != nil) != tt.want {
				t.Errorf("For = %v, want reused %v", got, tt.want)
			}
		})
	}
}
