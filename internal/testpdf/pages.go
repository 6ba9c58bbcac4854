package testpdf

import (
	"bytes"
	"fmt"
)

// Pages returns a valid multi-page PDF 1.4 (A4): page i shows the lines of
// pages[i] in Helvetica, 66 lines a page.
func Pages(pages ...[]string) []byte {
	contents := make([][]byte, len(pages))
	for i, lines := range pages {
		var c bytes.Buffer
		for j, l := range lines {
			fmt.Fprintf(&c, "BT /F1 10 Tf 40 %d Td (%s) Tj ET\n", 800-12*(j%66), escape(l))
		}
		contents[i] = c.Bytes()
	}
	return buildPages(contents, "/Font << /F1 %d 0 R >>", func(font int) string {
		return "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
	}, nil)
}

// Scan is one scanned page: a baseline JPEG and its size in pixels.
type Scan struct {
	JPEG          []byte
	Width, Height int
	Gray          bool
}

// Scanned returns a valid PDF 1.4 with one A4 page per scan, each page
// showing its JPEG (DCTDecode) over the whole page, as a document scanner
// writes them.
func Scanned(scans ...Scan) []byte {
	contents := make([][]byte, len(scans))
	for i := range scans {
		contents[i] = []byte("q 595 0 0 842 0 0 cm /Im0 Do Q\n")
	}
	return buildPages(contents, "/XObject << /Im0 %d 0 R >>", nil, scans)
}

// buildPages lays out catalog, pages, then per page: page, content stream and
// its resource (a shared font when font is set, else the page's image).
func buildPages(contents [][]byte, resource string, font func(int) string, scans []Scan) []byte {
	n := len(contents)
	var objects []string
	objects = append(objects, "<< /Type /Catalog /Pages 2 0 R >>")
	kids := ""
	perPage := 3
	if font != nil {
		perPage = 2
	}
	fontObj := 3 + perPage*n
	for i := range n {
		kids += fmt.Sprintf("%d 0 R ", 3+perPage*i)
	}
	objects = append(objects, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n))
	for i, c := range contents {
		page := 3 + perPage*i
		res := fontObj
		if font == nil {
			res = page + 2
		}
		objects = append(objects,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << "+resource+" >> /Contents %d 0 R >>", res, page+1),
			fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(c), c))
		if font == nil {
			s := scans[i]
			cs := "/DeviceRGB"
			if s.Gray {
				cs = "/DeviceGray"
			}
			objects = append(objects, fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream",
				s.Width, s.Height, cs, len(s.JPEG), s.JPEG))
		}
	}
	if font != nil {
		objects = append(objects, font(fontObj))
	}
	return build(objects)
}
