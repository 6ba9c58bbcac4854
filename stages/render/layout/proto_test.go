package layout

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func TestProto(t *testing.T) {
	reg, _ := GoRegular()
	bold, _ := GoBold()
	d := New(Margins{40, 40, 50, 40})
	d.Header = func(p *Page, n int) float64 {
		p.FillRect(0, 0, d.Width, 30, Hex(0x005EB8))
		p.Text(40, 8, Style{Font: bold, Size: 14, Color: Color{1, 1, 1}}, "CONSULTATION REPORT")
		return 10
	}
	d.Footer = func(p *Page, n, total int) {
		p.TextRight(d.Width-40, d.Height-35, Style{Font: reg, Size: 8}, "Page "+itoa(n)+" of "+itoa(total))
	}
	st := Style{Font: reg, Size: 10}
	for range 40 {
		d.Paragraph(st, 0, "Zoë Ó'Brien – Ærøskøbing µg °C lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore")
	}
	b, err := d.PDF(Info{Title: "x", Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("/tmp/proto/p.pdf", b, 0o644)
	conf := Configuration()
	conf.ValidationMode = model.ValidationStrict
	if err := api.Validate(bytes.NewReader(b), conf); err != nil {
		t.Fatal(err)
	}
}
