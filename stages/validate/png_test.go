package validate

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/pngmeta"
)

// rawPNG builds a PNG of w×h pixels of bit depth and colour type ct
// whose zlib stream inflates to raw followed by after (inside the same
// IDAT chunk, after the stream), with a PLTE chunk when plte is not nil.
// Every CRC is valid, so what is wrong is the image data.
func rawPNG(w, h int, depth, ct byte, plte, raw, after []byte) []byte {
	out := []byte(pngmeta.Signature)
	add := func(typ string, body []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
		start := len(out)
		out = append(out, typ...)
		out = append(out, body...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	add("IHDR", append(ihdr, depth, ct, 0, 0, 0))
	if plte != nil {
		add("PLTE", plte)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	add("IDAT", append(z.Bytes(), after...))
	add("IEND", nil)
	return out
}

// withTRNS inserts a tRNS chunk of n bytes before a PNG's IDAT chunk.
func withTRNS(data []byte, n int) []byte {
	i := bytes.Index(data, []byte("IDAT")) - 4
	c := binary.BigEndian.AppendUint32(nil, uint32(n))
	c = append(c, "tRNS"...)
	c = append(c, make([]byte, n)...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	return append(append(bytes.Clone(data[:i]), c...), data[i:]...)
}

// rows returns h rows of n bytes, each with filter type f.
func rows(h, n int, f byte) []byte {
	var b []byte
	for y := range h {
		b = append(b, f)
		for x := range n {
			b = append(b, byte(x*y))
		}
	}
	return b
}

// TestPNGImageData: a PNG's image data is checked without decoding it
// (pngmeta.Check) and a paletted one still decodes, and each damage is a
// problem naming the content with image/png's reason.
func TestPNGImageData(t *testing.T) {
	good := rows(4, 3*5, 4) // 5×4 RGB, Paeth rows
	badFilter := rows(4, 3*5, 4)
	badFilter[2*16] = 5
	pal := []byte{0, 0, 0, 255, 255, 255}
	const damaged = "is damaged: does not decode (png: invalid format: "
	tests := []struct {
		name    string
		data    []byte
		problem string // "" for none
	}{
		{"RGB", rawPNG(5, 4, 8, 2, nil, good, nil), ""},
		{"bad filter type", rawPNG(5, 4, 8, 2, nil, badFilter, nil), damaged + "bad filter type)"},
		{"a row short", rawPNG(5, 4, 8, 2, nil, good[:len(good)-1], nil), damaged + "not enough pixel data)"},
		{"a row too many", rawPNG(5, 4, 8, 2, nil, append(good, rows(1, 15, 0)...), nil), damaged + "too much pixel data)"},
		{"bytes after the zlib stream", rawPNG(5, 4, 8, 2, nil, good, []byte{0, 0}), ""},
		{"paletted, a byte short", rawPNG(4, 2, 1, 3, pal, []byte{0, 0x90, 1}, nil), damaged + "not enough pixel data)"},
		{"paletted, indices in PLTE", rawPNG(4, 2, 1, 3, pal, []byte{0, 0x90, 1, 0x60}, nil), ""},
		{"paletted, an index past PLTE", rawPNG(5, 1, 8, 3, pal, []byte{0, 0, 1, 2, 1, 0}, nil),
			"is not a valid PNG: pixels use palette entries its PLTE chunk (2 colours) does not define"},
		// A palette with a colour for every index is checked, not decoded.
		{"1-bit, full palette, a row short", rawPNG(9, 2, 1, 3, pal, []byte{0, 0x90, 0x80, 1, 0x60}, nil), damaged + "not enough pixel data)"},
		{"1-bit, full palette, bad filter type", rawPNG(9, 2, 1, 3, pal, []byte{0, 0x90, 0x80, 9, 0x60, 0}, nil), damaged + "bad filter type)"},
		{"1-bit, full palette", rawPNG(9, 2, 1, 3, pal, []byte{0, 0x90, 0x80, 1, 0x60, 0}, nil), ""},
		{"1-bit, full palette, 2 alphas", withTRNS(rawPNG(9, 2, 1, 3, pal, []byte{0, 0x90, 0x80, 1, 0x60, 0}, nil), 2), ""},
		{"1-bit, full palette, 3 alphas", withTRNS(rawPNG(9, 2, 1, 3, pal, []byte{0, 0x90, 0x80, 1, 0x60, 0}, nil), 3),
			"is not a valid PNG: pixels use palette entries its PLTE chunk (2 colours) does not define"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			att := &conneqt.Attachment{FileName: "scan.png", MIMEType: conneqt.MIMEPNG, Data: tt.data}
			problems, _ := CheckMessage(conneqt.MustRoute(conneqt.Standard), baseMessage(conneqt.Standard, att), Options{Now: fixedNow})
			var want []conneqt.Problem
			if tt.problem != "" {
				want = []conneqt.Problem{p("attachments[0].content", tt.problem, "")}
			}
			diff(t, "problems", problems, want)
		})
	}
}

// TestPNGCheckCancelled: a cancelled context stops the check of a PNG's
// image data, and the problem says it was not decoded.
func TestPNGCheckCancelled(t *testing.T) {
	data := rawPNG(5, 4, 8, 2, nil, rows(4, 15, 1), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &report{ctx: ctx}
	checkImage(data, conneqt.MIMEPNG, Options{}, "attachments[0].content", r, true)
	if len(r.problems) != 1 || !strings.Contains(r.problems[0].Reason, "was not decoded: PNG check: context canceled") {
		t.Fatalf("problems %v, want one saying it was not decoded", r.problems)
	}
}

// TestPNGCorpus: every PNG of the shared corpus whose chunks and header
// pass is refused as damaged exactly when image/png does not decode it,
// and for its palette exactly when its decoded palette is longer than the
// PLTE chunk, as when every PNG was decoded.
func TestPNGCorpus(t *testing.T) {
	root := corpustest.Dir(t, "png")
	n, palettes := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".png") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if _, _, cerr := pngmeta.Chunks(data); cerr != nil || err != nil || cfg.Width*cfg.Height > 50_000_000 {
			return nil
		}
		n++
		img, decodeErr := png.Decode(bytes.NewReader(data))
		plte, _, _ := checkPNGChunks(data)
		pal, paletted := img.(*image.Paletted)
		wantPalette := decodeErr == nil && paletted && plte >= 0 && len(pal.Palette) > plte
		att := &conneqt.Attachment{FileName: "scan.png", MIMEType: conneqt.MIMEPNG, Data: data}
		problems, _ := CheckMessage(conneqt.MustRoute(conneqt.Standard), baseMessage(conneqt.Standard, att), Options{Now: fixedNow})
		damaged, palette := false, false
		for _, p := range problems {
			damaged = damaged || strings.Contains(p.Reason, "does not decode")
			palette = palette || strings.Contains(p.Reason, "pixels use palette entries")
		}
		if damaged != (decodeErr != nil) || palette != wantPalette {
			t.Errorf("%s: problems %v; png.Decode: %v, palette problem wanted: %v", filepath.Base(path), problems, decodeErr, wantPalette)
		}
		if wantPalette {
			palettes++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 || palettes == 0 {
		t.Errorf("only %d PNGs checked, %d with a palette problem: corpus incomplete?", n, palettes)
	}
}
