// Package testpdf builds small, valid PDFs for gpdoc's tests, examples,
// benchmarks and simulator samples, so that every caller gets the same
// correct cross-reference table from one place.
package testpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Text returns a valid one-page PDF 1.4 (A4) that shows each line in
// Helvetica, wrapping round to the top of the page every 66 lines. Lines are
// escaped for PDF string syntax.
func Text(lines ...string) []byte {
	var content bytes.Buffer
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 10 Tf 40 %d Td (%s) Tj ET\n", 800-12*(i%66), escape(l))
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.Bytes()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	return build(objects)
}

// build writes objects (numbered from 1; object 1 is the catalogue) with a
// correct cross-reference table.
func build(objects []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// OfSize returns a valid one-page text PDF of about size bytes (at least a
// few hundred).
func OfSize(size int) []byte {
	var lines []string
	for n := 600; n < size; {
		l := fmt.Sprintf("Discharge summary line %06d for gpdoc's tests.", len(lines))
		lines = append(lines, l)
		n += len(l) + len("BT /F1 10 Tf 40 800 Td () Tj ET\n")
	}
	return Text(lines...)
}

// SharedContent returns a valid PDF of the kind that pins a PDF
// processor: pages pages that all draw one Flate-compressed content stream
// that inflates to contentBytes bytes (a few kilobytes a megabyte compressed),
// and an uncompressed image XObject of padBytes of noise on the first page
// that no optimiser can shrink (so that the file is as large as wanted). The
// bytes are the same for the same arguments.
func SharedContent(pages, contentBytes, padBytes int) []byte {
	var raw bytes.Buffer
	line := []byte("0.5 0.5 0.5 RG 10 10 m 580 830 l S\n")
	for raw.Len() < contentBytes {
		raw.Write(line[:min(len(line), contentBytes-raw.Len())])
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(raw.Bytes())
	zw.Close()
	// 1 catalogue, 2 pages, 3 content, 4 image, 5.. the pages.
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 5+i)
	}
	side := 1
	for side*side*3 < padBytes {
		side++
	}
	noise := make([]byte, side*side*3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(r.UintN(256))
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages),
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes()),
		fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream",
			side, side, len(noise), noise),
	}
	for i := range pages {
		xo := ""
		if i == 0 {
			xo = " /XObject << /Im1 4 0 R >>"
		}
		objects = append(objects, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <<%s >> /Contents 3 0 R >>", xo))
	}
	return build(objects)
}

var escaper = strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`, "\r", `\r`, "\n", `\n`)

func escape(s string) string { return escaper.Replace(s) }
