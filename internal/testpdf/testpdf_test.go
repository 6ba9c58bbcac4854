package testpdf_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/gpdoc/gpdoc/internal/pdfcpusetup"
	"github.com/gpdoc/gpdoc/internal/testpdf"
)

func TestPDFsAreValid(t *testing.T) {
	pdfcpusetup.Do()
	for name, pdf := range map[string][]byte{
		"text":           testpdf.Text("Hello (world) \\ ok", "second line"),
		"empty":          testpdf.Text(),
		"200 KB":         testpdf.OfSize(200_000),
		"1 KB":           testpdf.OfSize(1000),
		"shared content": testpdf.SharedContent(3, 1<<20, 5000),
	} {
		conf := model.NewDefaultConfiguration()
		conf.ValidationMode = model.ValidationStrict
		if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
			t.Errorf("%s: strict validation: %v", name, err)
		}
	}
	if n := len(testpdf.OfSize(200_000)); n < 190_000 || n > 210_000 {
		t.Errorf("OfSize(200000) is %d bytes", n)
	}
}

func TestPagesAndScanned(t *testing.T) {
	pdfcpusetup.Do()
	var jpg bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 40, 60))
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	scan := testpdf.Scan{JPEG: jpg.Bytes(), Width: 40, Height: 60, Gray: true}
	for _, tc := range []struct {
		name  string
		pdf   []byte
		pages int
	}{
		{"3 text pages", testpdf.Pages([]string{"page one"}, []string{"page (two)"}, nil), 3},
		{"1 text page", testpdf.Pages([]string{"only"}), 1},
		{"2 scans", testpdf.Scanned(scan, scan), 2},
	} {
		conf := model.NewDefaultConfiguration()
		conf.ValidationMode = model.ValidationStrict
		if err := api.Validate(bytes.NewReader(tc.pdf), conf); err != nil {
			t.Errorf("%s: strict validation: %v", tc.name, err)
			continue
		}
		n, err := api.PageCount(bytes.NewReader(tc.pdf), conf)
		if err != nil || n != tc.pages {
			t.Errorf("%s: %d pages (%v), want %d", tc.name, n, err, tc.pages)
		}
	}
}
