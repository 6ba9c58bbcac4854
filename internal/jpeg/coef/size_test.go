package coef

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
)

// TestDecodeBytes: DecodeBytes is exactly what Decode allocates for the
// coefficients, for every JPEG of the corpus both read (segment's walker,
// which DecodeBytes uses, refuses a few malformed headers Decode
// tolerates: the caller then falls back to another estimate) and for
// generated grey and 4:2:0 images of awkward sizes.
func TestDecodeBytes(t *testing.T) {
	var files [][]byte
	for _, size := range []image.Point{{1, 1}, {17, 9}, {640, 481}} {
		for _, img := range []image.Image{image.NewGray(image.Rectangle{Max: size}), image.NewRGBA(image.Rectangle{Max: size})} {
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, nil); err != nil {
				t.Fatal(err)
			}
			files = append(files, buf.Bytes())
		}
	}
	names, _ := filepath.Glob(filepath.Join(corpustest.Dir(t), "jpeg", "*", "*.jp*g"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	checked := 0
	for i, data := range files {
		m, err := Decode(data)
		if err != nil {
			continue
		}
		var want int64
		for _, c := range m.Components {
			want += int64(len(c.Blocks)) * 128
		}
		got, err := DecodeBytes(data)
		if err != nil && i >= 6 {
			continue // a corpus file segment's walker refuses
		}
		if err != nil || got != want {
			t.Errorf("file %d (%dx%d, %d components): DecodeBytes = %d, %v; Decode allocated %d", i, m.Width, m.Height, len(m.Components), got, err, want)
		}
		checked++
	}
	if checked < len(files)*3/4 {
		t.Fatalf("only %d images checked", checked)
	}
	if _, err := DecodeBytes([]byte{0xFF, 0xD8, 0xFF, 0xD9}); err == nil {
		t.Error("a JPEG with no frame header: no error")
	}
}

// FuzzDecodeBytes: DecodeBytes never panics, and whenever both it and
// Decode read an input they agree on the coefficients' size.
func FuzzDecodeBytes(f *testing.F) {
	for _, img := range []image.Image{image.NewGray(image.Rect(0, 0, 9, 17)), image.NewRGBA(image.Rect(0, 0, 33, 8))} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeBytes(data)
		if err != nil {
			return
		}
		m, err := Decode(data)
		if err != nil {
			return
		}
		var want int64
		for _, c := range m.Components {
			want += int64(len(c.Blocks)) * 128
		}
		if got != want {
			t.Errorf("DecodeBytes = %d; Decode allocated %d", got, want)
		}
	})
}
