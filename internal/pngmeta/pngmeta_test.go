package pngmeta_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/pngmeta"
)

func chunk(typ string, body []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(body)))
	c := append([]byte(typ), body...)
	b.Write(c)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	return b.Bytes()
}

// withChunks encodes a small image and inserts extra chunks after IHDR,
// then appends trailing.
func withChunks(t testing.TB, extra [][]byte, trailing string) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	ihdrEnd := len(pngmeta.Signature) + 12 + 13
	out := slices.Clone(data[:ihdrEnd])
	for _, e := range extra {
		out = append(out, e...)
	}
	out = append(out, data[ihdrEnd:]...)
	return append(out, trailing...)
}

func chunkTypes(t testing.TB, data []byte) []string {
	t.Helper()
	cs, _, err := pngmeta.Chunks(data)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Type)
	}
	return out
}

func TestStrip(t *testing.T) {
	gama := chunk("gAMA", []byte{0, 0, 0xb1, 0x8f})
	phys := chunk("pHYs", []byte{0, 0, 0x0b, 0x13, 0, 0, 0x0b, 0x13, 1})
	tests := []struct {
		name        string
		extra       [][]byte
		trailing    string
		wantRemoved []string
		wantTypes   []string
	}{
		{"nothing to remove", [][]byte{gama, phys}, "", nil, []string{"IHDR", "gAMA", "pHYs", "IDAT", "IEND"}},
		{"text, EXIF, time, private and trailing data", [][]byte{
			chunk("tEXt", []byte("Comment\x00NHS 943 476 5919")),
			gama,
			chunk("zTXt", []byte("Author\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")),
			chunk("iTXt", []byte("Patient\x00\x00\x00\x00\x00Zoë O'Brien")),
			chunk("eXIf", []byte("MM\x00*\x00\x00\x00\x08\x00\x00")),
			chunk("tIME", []byte{7, 234, 11, 21, 10, 0, 0}),
			chunk("prVt", []byte("GPS 51.5,-0.1")),
			chunk("tEXt", []byte("Title\x00second")),
			phys,
		}, "junk after the end", []string{"tEXt", "zTXt", "iTXt", "eXIf", "tIME", "prVt", "data after IEND"},
			[]string{"IHDR", "gAMA", "pHYs", "IDAT", "IEND"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := withChunks(t, tt.extra, tt.trailing)
			before := slices.Clone(in)
			res, err := pngmeta.Strip(in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, before) {
				t.Fatal("Strip changed its input")
			}
			if !slices.Equal(res.Removed, tt.wantRemoved) {
				t.Errorf("Removed = %q, want %q", res.Removed, tt.wantRemoved)
			}
			if got := chunkTypes(t, res.Data); !slices.Equal(got, tt.wantTypes) {
				t.Errorf("chunks = %q, want %q", got, tt.wantTypes)
			}
			if res.RemovedBytes != len(in)-len(res.Data) {
				t.Errorf("RemovedBytes %d, want %d", res.RemovedBytes, len(in)-len(res.Data))
			}
			if bytes.Contains(res.Data, []byte("943 476")) || bytes.Contains(res.Data, []byte("GPS")) {
				t.Error("metadata left in the output")
			}
			samePixels(t, in, res.Data)
		})
	}
}

func TestStripRefusesMalformed(t *testing.T) {
	good := withChunks(t, nil, "")
	badCRC := slices.Clone(good)
	badCRC[len(pngmeta.Signature)+12+13-1] ^= 1
	for name, data := range map[string][]byte{
		"no signature": good[1:],
		"bad CRC":      badCRC,
		"truncated":    good[:len(good)-12],
		"long length":  append(slices.Clone(good[:8]), 0xff, 0xff, 0xff, 0xf0, 'I', 'H', 'D', 'R'),
		"IDAT first":   append([]byte(pngmeta.Signature), chunk("IDAT", nil)...),
	} {
		if _, err := pngmeta.Strip(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// samePixels decodes both PNGs and compares every pixel.
func samePixels(t testing.TB, a, b []byte) {
	t.Helper()
	ia, errA := png.Decode(bytes.NewReader(a))
	ib, errB := png.Decode(bytes.NewReader(b))
	if (errA == nil) != (errB == nil) {
		t.Fatalf("decode before: %v, after: %v", errA, errB)
	}
	if errA != nil {
		return
	}
	if ia.Bounds() != ib.Bounds() || fmt.Sprintf("%T", ia) != fmt.Sprintf("%T", ib) || !sameModel(ia, ib) {
		t.Fatalf("image changed: %v %T -> %v %T", ia.Bounds(), ia, ib.Bounds(), ib)
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.RGBA64Model.Convert(ia.At(x, y)) != color.RGBA64Model.Convert(ib.At(x, y)) {
				t.Fatalf("pixel (%d,%d) changed", x, y)
			}
		}
	}
}

// sameModel compares colour models, palettes by their colours.
func sameModel(a, b image.Image) bool {
	pa, ok1 := a.ColorModel().(color.Palette)
	pb, ok2 := b.ColorModel().(color.Palette)
	if ok1 || ok2 {
		return ok1 && ok2 && slices.Equal(pa, pb)
	}
	return a.ColorModel() == b.ColorModel()
}

// TestCorpus strips every PNG of the shared corpus (PngSuite, Go's and
// Pillow's test images): what decoded before decodes after with the same
// pixels, only kept chunks remain, and a second pass removes nothing.
func TestCorpus(t *testing.T) {
	root := corpustest.Dir(t, "png")
	n, stripped := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(path), ".png") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		res, err := pngmeta.Strip(data)
		if err != nil {
			t.Logf("%s: %v", path, err) // corrupt files (bad CRC, truncated)
			return nil
		}
		if len(res.Removed) > 0 {
			stripped++
		}
		for _, typ := range chunkTypes(t, res.Data) {
			if !pngmeta.Keeps(typ) {
				t.Errorf("%s: %s kept", path, typ)
			}
		}
		if again, _ := pngmeta.Strip(res.Data); len(again.Removed) > 0 {
			t.Errorf("%s: a second pass removed %q", path, again.Removed)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height <= 50_000_000 {
			samePixels(t, data, res.Data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 || stripped == 0 {
		t.Errorf("%d PNGs, %d with metadata: corpus incomplete?", n, stripped)
	}
	t.Logf("%d PNGs, %d had metadata removed", n, stripped)
}

func FuzzStrip(f *testing.F) {
	f.Add(withChunks(f, nil, ""))
	f.Add(withChunks(f, [][]byte{chunk("tEXt", []byte("a\x00b")), chunk("gAMA", []byte{0, 0, 0xb1, 0x8f})}, "x"))
	f.Add(withChunks(f, [][]byte{chunk("zzZz", nil), chunk("iCCP", []byte("p\x00\x00x\x9c\x03\x00\x00\x00\x00\x01"))}, ""))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := pngmeta.Strip(data)
		if err != nil {
			return
		}
		for _, typ := range chunkTypes(t, res.Data) {
			if !pngmeta.Keeps(typ) {
				t.Fatalf("%s kept", typ)
			}
		}
		again, err := pngmeta.Strip(res.Data)
		if err != nil || len(again.Removed) > 0 || !bytes.Equal(again.Data, res.Data) {
			t.Fatalf("second pass: %v %q", err, again.Removed)
		}
		if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height <= 1e6 {
			samePixels(t, data, res.Data)
		}
	})
}
