package pipeline

import (
	"errors"
	"image"
	"strings"
	"testing"
)

func TestPackagePath(t *testing.T) {
	for fn, want := range map[string]string{
		"image/jpeg.(*decoder).processSOS":                                   "image/jpeg",
		"image.pixelBufferLength":                                            "image",
		"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model.(*XRefTable).Dereference": "github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model",
		"github.com/gpdoc/gpdoc/internal/jpeg/huffman.decode[...]":           "github.com/gpdoc/gpdoc/internal/jpeg/huffman",
		"main": "main",
	} {
		if got := packagePath(fn); got != want {
			t.Errorf("packagePath(%q) = %q, want %q", fn, got, want)
		}
	}
}

// Recover names the decoder a panic started in, passing over the runtime
// and libraries that panicked on what their caller handed them; a panic in
// gpdoc's own code names none.
func TestRecover(t *testing.T) {
	tests := []struct {
		name     string
		decoders []string
		fn       func() error
		want     string
	}{
		{"image decoder", nil, func() error { image.NewRGBA(image.Rect(0, 0, 1<<40, 1<<40)); return nil }, "image"},
		{"own code", nil, func() error { var s []int; _ = s[3]; return nil }, ""},
		{"own code listed as a decoder", []string{"github.com/gpdoc/gpdoc/pipeline."}, func() error { var s []int; _ = s[3]; return nil }, "github.com/gpdoc/gpdoc/pipeline"},
		{"explicit panic", nil, func() error { panic("boom") }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Recover(tc.decoders, tc.fn)
			var pe *PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PanicError", err)
			}
			if pe.Decoder != tc.want || len(pe.Stack) == 0 {
				t.Errorf("Decoder = %q (stack %d bytes), want %q", pe.Decoder, len(pe.Stack), tc.want)
			}
		})
	}
	if err := Recover(nil, func() error { return nil }); err != nil {
		t.Errorf("no panic: err = %v", err)
	}
	sentinel := errors.New("plain")
	if err := Recover(nil, func() error { return sentinel }); err != sentinel {
		t.Errorf("plain error changed: %v", err)
	}
}

// FuzzPackagePath: any function name gives a prefix of itself, without a
// dot after its last slash.
func FuzzPackagePath(f *testing.F) {
	for _, s := range []string{"image/jpeg.(*decoder).processSOS", "main.main", "", "a/b/c", "a.b/c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, fn string) {
		got := packagePath(fn)
		if !strings.HasPrefix(fn, got) {
			t.Fatalf("packagePath(%q) = %q, not a prefix", fn, got)
		}
		if slash := strings.LastIndexByte(got, '/'); strings.Contains(got[slash+1:], ".") {
			t.Fatalf("packagePath(%q) = %q keeps a dot after the last slash", fn, got)
		}
	})
}
