package transcode

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// TestEncodeSampledTables: Encode codes a big image once, with Huffman
// tables from sampled rows (encode.EncodeSampled). Its output must decode
// to exactly the pixels of the two-pass, optimal-table encoding, be at
// most a per cent larger, come out the same every time, and still code a
// symbol that no sampled row holds.
func TestEncodeSampledTables(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(1024, 1024, 3), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	src, err := coef.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	// MCU row 0 is not sampled (64 rows: every 2nd from row 1). In one of
	// its luma blocks, a run of 15 zeros then a coefficient of size 10:
	// AC symbol 0xFA, which a photo's sampled rows do not hold.
	b := src.Components[0].Block(5, 0)
	for k := 48; k < 63; k++ {
		b[k] = 0
	}
	b[47], b[63] = 1, 1000
	tr, err := New(src, 1)
	if err != nil {
		t.Fatal(err)
	}
	if tr.MCURows()/SampledRows < 2 {
		t.Fatalf("%d MCU rows: too few for Encode to sample", tr.MCURows())
	}
	tt, err := tr.KeepTables()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, rows := tr.frame(tt)
	exact, err := encode.Encode(ctx, f, rows, false)
	if err != nil {
		t.Fatal(err)
	}
	sampled, err := tr.Encode(ctx, tt)
	if err != nil {
		t.Fatal(err)
	}
	again, err := tr.Encode(ctx, tt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sampled, again) {
		t.Error("two encodings of the same image differ")
	}
	if bytes.Equal(sampled, exact) {
		t.Error("the sampled encoding is the optimal one: were the tables sampled?")
	}
	if len(sampled) > len(exact)*101/100 {
		t.Errorf("sampled tables: %d bytes, optimal %d: more than 1%% larger", len(sampled), len(exact))
	}
	want, got := decode(t, exact), decode(t, sampled)
	if !bytes.Equal(want.Y, got.Y) || !bytes.Equal(want.Cb, got.Cb) || !bytes.Equal(want.Cr, got.Cr) {
		t.Error("the sampled encoding decodes to other pixels than the optimal one")
	}
}

func decode(t *testing.T, data []byte) *image.YCbCr {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img.(*image.YCbCr)
}

// TestKeptTablesShortcut: with the source's tables kept, each coefficient
// is only moved and sign-flipped, without the re-quantising arithmetic;
// the output must be the arithmetic's, for every orientation.
func TestKeptTablesShortcut(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimage.Photo(256, 192, 5), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	src, err := coef.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for o := 1; o <= 8; o++ {
		tr, err := New(src, o)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := tr.KeepTables()
		if err != nil {
			t.Fatal(err)
		}
		arith := *kept
		arith.kept = false
		a, err := tr.Encode(ctx, kept)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tr.Encode(ctx, &arith)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("orientation %d: the kept-tables shortcut gives other bytes than re-quantising by 1", o)
		}
	}
}
