package testpdf_test

import (
	"bytes"
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
