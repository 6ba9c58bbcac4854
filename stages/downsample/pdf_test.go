package downsample

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
)

// pdfPage is one page of a generated PDF: a line of text and, optionally,
// an image stream drawn under it.
type pdfPage struct {
	text   string
	img    []byte // stream bytes
	filter string // DCTDecode or FlateDecode
	w, h   int
	extra  int // bytes of incompressible text content to add
}

// buildPDF writes a small valid PDF by hand, so that tests control every
// object: a catalog, a page tree, Helvetica, and per page a content stream
// and an image XObject.
func buildPDF(t testing.TB, pages []pdfPage) []byte {
	t.Helper()
	var b bytes.Buffer
	var offsets []int
	obj := func(body string, stream []byte) int {
		offsets = append(offsets, b.Len())
		n := len(offsets)
		fmt.Fprintf(&b, "%d 0 obj\n%s", n, body)
		if stream != nil {
			b.WriteString("\nstream\n")
			b.Write(stream)
			b.WriteString("\nendstream")
		}
		b.WriteString("\nendobj\n")
		return n
	}
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	kidsAt := b.Len()
	obj(strings.Repeat(" ", 200), nil) // page tree, rewritten below
	font := obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", nil)
	var kids []string
	for _, p := range pages {
		res := fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		content := fmt.Sprintf("BT /F1 18 Tf 50 800 Td (%s) Tj ET\n", p.text)
		if p.img != nil {
			cs := "/DeviceRGB"
			im := obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /%s /Length %d >>",
				p.w, p.h, cs, p.filter, len(p.img)), p.img)
			res += fmt.Sprintf(" /XObject << /Im0 %d 0 R >>", im)
			content += "q 500 0 0 375 50 380 cm /Im0 Do Q\n"
		}
		if p.extra > 0 {
			r := rand.New(rand.NewPCG(uint64(p.extra), 1))
			var sb strings.Builder
			for sb.Len() < p.extra {
				fmt.Fprintf(&sb, "BT /F1 6 Tf %d %d Td (%x) Tj ET\n", r.IntN(500), r.IntN(800), r.Uint64())
			}
			content += sb.String()
		}
		c := obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
		pg := obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents %d 0 R >>", res, c), nil)
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	out := b.Bytes()
	tree := fmt.Sprintf("2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	if len(tree) > 200+len("2 0 obj\n") {
		t.Fatal("page tree too long for its placeholder")
	}
	copy(out[kidsAt:], tree)
	return out
}

func photoJPEGBytes(t testing.TB, w, h int, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testimage.Photo(w, h, 7), &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func photoFlate(t testing.TB, w, h int) []byte {
	t.Helper()
	img := testimage.Photo(w, h, 9)
	var b bytes.Buffer
	z := zlib.NewWriter(&b)
	rgb := make([]byte, 0, 3*w)
	for y := range h {
		rgb = rgb[:0]
		for x := range w {
			p := img.Pix[y*img.Stride+4*x:]
			rgb = append(rgb, p[0], p[1], p[2])
		}
		z.Write(rgb)
	}
	z.Close()
	return b.Bytes()
}

// pdfFacts reads the page count and every page's content stream.
func pdfFacts(t testing.TB, data []byte) (int, []string) {
	t.Helper()
	ctx, err := api.ReadContext(bytes.NewReader(data), pdfConf())
	if err != nil {
		t.Fatalf("output is not a readable PDF: %v", err)
	}
	if err := api.ValidateContext(ctx); err != nil {
		t.Fatalf("output does not validate: %v", err)
	}
	var contents []string
	for p := 1; p <= ctx.PageCount; p++ {
		r, err := pdfcpu.ExtractPageContent(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(r)
		contents = append(contents, string(c))
	}
	return ctx.PageCount, contents
}

func TestFitPDF(t *testing.T) {
	dct := photoJPEGBytes(t, 2000, 1500, 95)
	flate := photoFlate(t, 1200, 900)
	tests := []struct {
		name   string
		pages  []pdfPage
		budget int64
		want   error
	}{
		{"DCT image", []pdfPage{{text: "Discharge letter page 1", img: dct, filter: "DCTDecode", w: 2000, h: 1500},
			{text: "Page 2: no image"}}, 500_000, nil},
		{"Flate image", []pdfPage{{text: "Wound chart", img: flate, filter: "FlateDecode", w: 1200, h: 900}}, 600_000, nil},
		{"text alone over the limit", []pdfPage{{text: "Long report", extra: 400_000}}, 100_000, ErrCannotFit},
		{"images cannot shrink enough", []pdfPage{{text: "Photo", img: dct, filter: "DCTDecode", w: 2000, h: 1500}}, 20_000, ErrCannotFit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := buildPDF(t, tt.pages)
			if int64(len(in)) <= tt.budget {
				t.Fatalf("generated PDF is %d bytes, not over the budget %d", len(in), tt.budget)
			}
			pagesIn, contentIn := pdfFacts(t, in)
			out, rep, err := FitPDF(context.Background(), in, Options{MaxBytes: tt.budget, MinLongEdge: 1000})
			if tt.want != nil {
				var fe *FitError
				if !errors.Is(err, tt.want) || !errors.As(err, &fe) || fe.Reached <= tt.budget {
					t.Fatalf("err = %v, want %v with the size reached", err, tt.want)
				}
				if !strings.Contains(fe.Reason, fmt.Sprint(fe.Reached)) {
					t.Errorf("reason %q does not give the size reached %d", fe.Reason, fe.Reached)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)) > tt.budget {
				t.Fatalf("output %d bytes, over %d", len(out), tt.budget)
			}
			pagesOut, contentOut := pdfFacts(t, out)
			if pagesOut != pagesIn {
				t.Errorf("pages: %d in, %d out", pagesIn, pagesOut)
			}
			for i := range contentIn {
				if contentIn[i] != contentOut[i] {
					t.Errorf("page %d content changed:\n%q\n%q", i+1, contentIn[i], contentOut[i])
				}
			}
			if rep.ImagesRecompressed != 1 || rep.FinalBytes != int64(len(out)) {
				t.Errorf("report %+v", rep)
			}
			t.Logf("%d -> %d bytes: %v", len(in), len(out), rep.Steps)
		})
	}
}

func TestFitPDFDamaged(t *testing.T) {
	in := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("garbage "), 2000)...)
	_, _, err := FitPDF(context.Background(), in, Options{MaxBytes: 1000})
	if !errors.Is(err, ErrUndecodable) {
		t.Fatalf("err = %v, want ErrUndecodable", err)
	}
}
