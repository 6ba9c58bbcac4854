package encode

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"slices"
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// testImages are the image types EncodeImage meets: resized RGBA, decoded
// YCbCr (at an offset, as a sub-image), grey, opaque NRGBA, and a type
// without a fast path; sizes that are and are not whole MCUs, and one
// that splits into several strips.
func testImages() map[string]image.Image {
	photo := testimage.Photo(1000, 700, 3)
	gray := image.NewGray(photo.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = photo.Pix[4*i+1]
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 400, 300), image.YCbCrSubsampleRatio420)
	for y := range 300 {
		for x := range 400 {
			r, g, b, _ := photo.At(x, y).RGBA()
			yy, cb, cr := color.RGBToYCbCr(uint8(r>>8), uint8(g>>8), uint8(b>>8))
			ycc.Y[ycc.YOffset(x, y)], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = yy, cb, cr
		}
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 97, 61))
	paletted := image.NewPaletted(image.Rect(0, 0, 45, 33), color.Palette{color.Black, color.White, color.RGBA{200, 30, 40, 255}})
	for y := range 61 {
		for x := range 97 {
			nrgba.Set(x, y, photo.At(x, y))
			paletted.SetColorIndex(x%45, y%33, uint8((x*y)%3))
		}
	}
	return map[string]image.Image{
		"rgba strips":     photo,
		"rgba odd size":   photo.SubImage(image.Rect(3, 5, 333, 216)),
		"grey strips":     gray,
		"grey odd size":   gray.SubImage(image.Rect(1, 2, 101, 53)),
		"ycbcr sub-image": ycc.SubImage(image.Rect(16, 32, 391, 300)),
		"nrgba opaque":    nrgba,
		"paletted":        paletted,
		"one pixel":       photo.SubImage(image.Rect(0, 0, 1, 1)),
	}
}

// sameCoefficients fails unless a and b hold the same frame, tables and
// coefficients (every block inside the image).
func sameCoefficients(t *testing.T, a, b []byte) {
	t.Helper()
	ca, err := coef.Decode(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := coef.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Width != cb.Width || ca.Height != cb.Height || len(ca.Components) != len(cb.Components) {
		t.Fatalf("frame %dx%d, %d components; want %dx%d, %d", ca.Width, ca.Height, len(ca.Components), cb.Width, cb.Height, len(cb.Components))
	}
	h0, v0 := ca.Components[0].H, ca.Components[0].V
	for i := range ca.Components {
		x, y := &ca.Components[i], &cb.Components[i]
		if x.H != y.H || x.V != y.V || x.Quant != y.Quant {
			t.Fatalf("component %d: sampling %dx%d, table %v; want %dx%d, %v", i, x.H, x.V, x.Quant, y.H, y.V, y.Quant)
		}
		bw, bh := (ca.Width*x.H/h0+7)/8, (ca.Height*x.V/v0+7)/8
		for by := range bh {
			for bx := range bw {
				if *x.Block(bx, by) != *y.Block(bx, by) {
					t.Fatalf("component %d block (%d,%d) differs", i, bx, by)
				}
			}
		}
	}
}

// TestEncodeImageMatchesImageJPEG: at integer qualities the coefficients
// and tables are exactly image/jpeg's, the output decodes to image/jpeg's
// pixels, and it is smaller (optimal Huffman tables, one DQT table for
// grey).
func TestEncodeImageMatchesImageJPEG(t *testing.T) {
	for name, img := range testImages() {
		for _, q := range []int{1, 30, 75, 100} {
			got, err := EncodeImage(context.Background(), img, float64(q))
			if err != nil {
				t.Fatalf("%s q%d: %v", name, q, err)
			}
			var want bytes.Buffer
			if err := jpeg.Encode(&want, img, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			sameCoefficients(t, got, want.Bytes())
			if len(got) >= want.Len() && img.Bounds().Dx() > 8 {
				t.Errorf("%s q%d: %d bytes, image/jpeg %d", name, q, len(got), want.Len())
			}
		}
	}
}

// TestFractionalQuality: a fractional quality falls between its integer
// neighbours in size.
func TestFractionalQuality(t *testing.T) {
	img := testimage.Photo(300, 200, 7)
	size := func(q float64) int {
		b, err := EncodeImage(context.Background(), img, q)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	for _, q := range []float64{20, 49, 80, 95} {
		lo, mid, hi := size(q), size(q+0.5), size(q+1)
		if mid < lo || mid > hi {
			t.Errorf("sizes q%v %d, q%v %d, q%v %d: not in order", q, lo, q+0.5, mid, q+1, hi)
		}
	}
}

// TestQualityInvertsQuantTables: Quality reads back the quality of
// QuantTables' luminance table, from 15 up (below, steps clip at 255 and
// the mean ratio reads high).
func TestQualityInvertsQuantTables(t *testing.T) {
	for q := 15; q <= 100; q++ {
		qt := QuantTables(float64(q))
		var luma [64]uint16
		for i, v := range qt[0] {
			luma[i] = uint16(v)
		}
		if got := Quality(&luma); got < q-1 || got > q+1 {
			t.Errorf("quality %d: Quality = %d", q, got)
		}
	}
}

func TestStripLayout(t *testing.T) {
	for _, tt := range []struct {
		rows, perRow   int
		wantRows, want int
	}{
		{1, 1, 1, 1},
		{10, 10, 10, 1},      // 100 MCUs: one strip
		{44, 63, 33, 2},      // 2772 MCUs: strips of at least 2048
		{250, 375, 16, 16},   // 24 MP 4:2:0: sixteen strips
		{4000, 8000, 8, 500}, // a restart interval holds at most 65535 MCUs
	} {
		rows, n := stripLayout(tt.rows, tt.perRow)
		if rows != tt.wantRows || n != tt.want {
			t.Errorf("stripLayout(%d, %d) = %d rows, %d strips; want %d, %d", tt.rows, tt.perRow, rows, n, tt.wantRows, tt.want)
		}
		if rows*tt.perRow > 0xFFFF || (n-1)*rows >= tt.rows || n*rows < tt.rows {
			t.Errorf("stripLayout(%d, %d) = %d, %d: not a cover of the rows within the restart interval", tt.rows, tt.perRow, rows, n)
		}
	}
}

// TestEncodeStrips: an image split into strips carries a restart
// interval and restart markers, and decodes like a one-strip encode.
func TestEncodeStrips(t *testing.T) {
	img := testimage.Photo(1200, 800, 9)
	out, err := EncodeImage(context.Background(), img, 80)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte{0xFF, 0xDD, 0, 4}) || !bytes.Contains(out, []byte{0xFF, 0xD0}) {
		t.Fatal("no DRI segment or RST0 marker in a multi-strip encode")
	}
	var want bytes.Buffer
	if err := jpeg.Encode(&want, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	sameCoefficients(t, out, want.Bytes())
}

func TestEncodeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EncodeImage(ctx, testimage.Photo(64, 64, 1), 80); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestFrameErrors(t *testing.T) {
	row := func(*BlockWriter, int) error { return nil }
	q := [][64]uint8{{1}}
	for _, f := range []Frame{
		{Width: 0, Height: 8, Components: []Component{{H: 1, V: 1}}, Quant: q},
		{Width: 70000, Height: 8, Components: []Component{{H: 1, V: 1}}, Quant: q},
		{Width: 8, Height: 8, Components: []Component{{H: 1, V: 1}, {H: 1, V: 1}}, Quant: q},
		{Width: 8, Height: 8, Components: []Component{{H: 1, V: 1, Quant: 2}}, Quant: q},
		{Width: 8, Height: 8, Components: []Component{{H: 5, V: 1}}, Quant: q},
	} {
		if _, err := Encode(context.Background(), &f, row, false); !errors.Is(err, ErrFrame) {
			t.Errorf("Encode(%+v) = %v, want ErrFrame", f, err)
		}
	}
}

// TestBlockWriter: the symbols of a known block, kept and counted, the
// DC prediction carried, and the range checks.
func TestBlockWriter(t *testing.T) {
	var c [64]int32
	c[0], c[1], c[20] = 5, -3, 1
	nz := uint64(1) | 1<<1 | 1<<20
	var freq Counts
	w := BlockWriter{mode: keepSymbols, freq: &freq}
	w.pred[1] = 2
	if err := w.Block(&c, nz, 1, LumaDC, LumaAC); err != nil {
		t.Fatal(err)
	}
	want := []uint32{
		LumaDC<<28 | 2<<20 | 2<<16 | 3,    // DC difference 3: size 2, bits 11
		LumaAC<<28 | 0x02<<20 | 2<<16 | 0, // run 0, -3: size 2, bits 00
		LumaAC<<28 | 0xF0<<20,             // ZRL: sixteen of the eighteen zeros
		LumaAC<<28 | 0x21<<20 | 1<<16 | 1, // run 2, 1: size 1, bit 1
		LumaAC<<28 | 0x00<<20,             // EOB
	}
	if !slices.Equal(w.kept(), want) {
		t.Fatalf("symbols %x, want %x", w.kept(), want)
	}
	if w.pred != [3]int32{0, 5, 0} {
		t.Errorf("predictions %v, want [0 5 0]", w.pred)
	}
	if freq[LumaDC][2] != 1 || freq[LumaAC][0x02] != 1 || freq[LumaAC][0xF0] != 1 || freq[LumaAC][0x21] != 1 || freq[LumaAC][0x00] != 1 || w.extra != 5 {
		t.Errorf("counted %v DC, %d extra bits; want one of each symbol, 5 extra bits", freq[LumaDC][:12], w.extra)
	}
	for _, bad := range []struct {
		k int
		v int32
	}{{0, 4000}, {5, 2000}} {
		var c [64]int32
		c[bad.k] = bad.v
		w := BlockWriter{mode: countSymbols, freq: &Counts{}}
		if err := w.Block(&c, 1<<bad.k, 0, LumaDC, LumaAC); !errors.Is(err, ErrCoefficientRange) {
			t.Errorf("coefficient %d = %d: err %v, want ErrCoefficientRange", bad.k, bad.v, err)
		}
	}
}

// FuzzEncodeImage: any small image encodes to image/jpeg's coefficients
// at any quality.
func FuzzEncodeImage(f *testing.F) {
	f.Add(uint8(17), uint8(9), uint8(75), false, []byte("seed pixels"))
	f.Add(uint8(1), uint8(1), uint8(1), true, []byte{0})
	f.Add(uint8(40), uint8(33), uint8(100), true, []byte{255, 0, 255, 0})
	f.Fuzz(func(t *testing.T, w, h, q uint8, gray bool, pix []byte) {
		if w == 0 || h == 0 || len(pix) == 0 {
			return
		}
		var img image.Image
		if gray {
			g := image.NewGray(image.Rect(0, 0, int(w), int(h)))
			for i := range g.Pix {
				g.Pix[i] = pix[i%len(pix)]
			}
			img = g
		} else {
			c := image.NewRGBA(image.Rect(0, 0, int(w), int(h)))
			for i := range c.Pix {
				c.Pix[i] = pix[i%len(pix)]
			}
			img = c
		}
		quality := max(1, min(int(q), 100))
		got, err := EncodeImage(context.Background(), img, float64(quality))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := jpeg.Encode(&want, img, &jpeg.Options{Quality: quality}); err != nil {
			t.Fatal(err)
		}
		sameCoefficients(t, got, want.Bytes())
	})
}

// BenchmarkEncodeImage24MP: EncodeImage against image/jpeg (standard
// Huffman tables, one goroutine) on a 24 MP photo, from RGBA (a resized
// image) and YCbCr (a decoded JPEG).
func BenchmarkEncodeImage24MP(b *testing.B) {
	rgba := testimage.Photo(6000, 4000, 1)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, &jpeg.Options{Quality: 95}); err != nil {
		b.Fatal(err)
	}
	ycbcr, err := jpeg.Decode(&buf)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, src := range []struct {
		name string
		img  image.Image
	}{{"rgba", rgba}, {"ycbcr", ycbcr}} {
		b.Run(src.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := EncodeImage(ctx, src.img, 80)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "out-bytes")
		})
		b.Run(src.name+"/image-jpeg", func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				var out bytes.Buffer
				if err := jpeg.Encode(&out, src.img, &jpeg.Options{Quality: 80}); err != nil {
					b.Fatal(err)
				}
				n = out.Len()
			}
			b.ReportMetric(float64(n), "out-bytes")
		})
	}
}
