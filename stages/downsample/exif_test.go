package downsample

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// withOrientation returns a JPEG with an APP1 EXIF segment carrying
// orientation o in the given byte order inserted after SOI.
func withOrientation(t testing.TB, jpg []byte, o int, bigEndian bool) []byte {
	t.Helper()
	var bo binary.ByteOrder = binary.LittleEndian
	hdr := "II"
	if bigEndian {
		bo, hdr = binary.BigEndian, "MM"
	}
	tiff := make([]byte, 8+2+12+4)
	copy(tiff, hdr)
	bo.PutUint16(tiff[2:], 42)
	bo.PutUint32(tiff[4:], 8)
	bo.PutUint16(tiff[8:], 1)
	bo.PutUint16(tiff[10:], 0x0112)
	bo.PutUint16(tiff[12:], 3)
	bo.PutUint32(tiff[14:], 1)
	bo.PutUint16(tiff[18:], uint16(o))
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, app1...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func tinyJPEG(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestOrientation(t *testing.T) {
	base := tinyJPEG(t)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"no exif", base, 1},
		{"not a jpeg", []byte("%PDF-1.7"), 1},
		{"empty", nil, 1},
		{"truncated segment", base[:3], 1},
		{"invalid 0", withOrientation(t, base, 0, false), 1},
		{"invalid 9", withOrientation(t, base, 9, true), 1},
	}
	for o := 1; o <= 8; o++ {
		tests = append(tests,
			struct {
				name string
				data []byte
				want int
			}{fmt.Sprintf("II %d", o), withOrientation(t, base, o, false), o},
			struct {
				name string
				data []byte
				want int
			}{fmt.Sprintf("MM %d", o), withOrientation(t, base, o, true), o})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Orientation(tt.data); got != tt.want {
				t.Errorf("Orientation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestOrientationCorpus(t *testing.T) {
	dir := corpusDir(t, filepath.Join("jpeg", "exif-orientation"))
	for _, kind := range []string{"Landscape", "Portrait"} {
		for o := 0; o <= 8; o++ {
			data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s_%d.jpg", kind, o)))
			if err != nil {
				t.Fatal(err)
			}
			want := max(o, 1)
			if got := Orientation(data); got != want {
				t.Errorf("%s_%d: Orientation = %d, want %d", kind, o, got, want)
			}
		}
	}
}

func TestSourceQuality(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for _, q := range []int{30, 50, 60, 75, 85, 90, 95} {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		if got := SourceQuality(b.Bytes()); got < q-1 || got > q+1 {
			t.Errorf("quality %d: SourceQuality = %d", q, got)
		}
	}
	for _, bad := range [][]byte{nil, []byte("junk"), {0xFF, 0xD8, 0xFF, 0xDB, 0x00}} {
		if got := SourceQuality(bad); got != 0 {
			t.Errorf("SourceQuality(%q) = %d, want 0", bad, got)
		}
	}
}

func FuzzOrientation(f *testing.F) {
	base := tinyJPEG(f)
	f.Add(base)
	f.Add(withOrientation(f, base, 6, false))
	f.Add(withOrientation(f, base, 8, true))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := Orientation(data); o < 1 || o > 8 {
			t.Fatalf("Orientation = %d, out of 1..8", o)
		}
		if q := SourceQuality(data); q < 0 || q > 100 {
			t.Fatalf("SourceQuality = %d, out of 0..100", q)
		}
	})
}
