package budget_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png"
	"testing"
	"time"

	"github.com/gpdoc/gpdoc/internal/budget"
)

// pngHeader returns a PNG signature, an IHDR chunk and the chunks named in
// extra (empty bodies): enough for image.DecodeConfig.
func pngHeader(w, h uint32, depth, colourType, interlace byte, extra ...string) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, body []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(body)))
		c := append([]byte(typ), body...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9], ihdr[12] = depth, colourType, interlace
	chunk("IHDR", ihdr)
	for _, e := range extra {
		body := []byte{}
		if e == "tRNS" {
			body = make([]byte, 6)
		}
		chunk(e, body)
	}
	chunk("IDAT", nil)
	return b.Bytes()
}

func TestImageCost(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewYCbCr(image.Rect(0, 0, 64, 32), image.YCbCrSubsampleRatio420), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want int64
	}{
		// The case: 777 KB on disk, 800 MB decoded.
		{"16-bit RGBA PNG", pngHeader(10000, 9999, 16, 6, 0), 10000 * 9999 * 8},
		{"16-bit RGB PNG", pngHeader(100, 100, 16, 2, 0), 100 * 100 * 8},
		{"8-bit RGBA PNG", pngHeader(100, 100, 8, 6, 0), 100 * 100 * 4},
		{"8-bit grey PNG", pngHeader(100, 100, 8, 0, 0), 100 * 100},
		{"16-bit grey PNG", pngHeader(100, 100, 16, 0, 0), 100 * 100 * 2},
		{"grey PNG with tRNS", pngHeader(100, 100, 8, 0, 0, "tRNS"), 100 * 100 * 4},
		{"16-bit grey PNG with tRNS", pngHeader(100, 100, 16, 0, 0, "tRNS"), 100 * 100 * 8},
		{"interlaced 8-bit RGBA PNG", pngHeader(100, 100, 8, 6, 1), 100 * 100 * 4 * 2},
		{"JPEG", jpg.Bytes(), 64 * 32 * 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, n, what, err := budget.ImageCost(c.data)
			if err != nil {
				t.Fatal(err)
			}
			if n != c.want {
				t.Errorf("ImageCost = %d (%s), want %d", n, what, c.want)
			}
		})
	}
}

func TestBytesPerPixel(t *testing.T) {
	for _, c := range []struct {
		m    color.Model
		want int64
	}{
		{color.RGBA64Model, 8}, {color.NRGBA64Model, 8}, {color.RGBAModel, 4}, {color.NRGBAModel, 4},
		{color.GrayModel, 1}, {color.Gray16Model, 2}, {color.YCbCrModel, 3}, {color.CMYKModel, 4},
		{color.Palette{color.Black}, 1},
	} {
		if got := budget.BytesPerPixel(c.m); got != c.want {
			t.Errorf("BytesPerPixel(%T) = %d, want %d", c.m, got, c.want)
		}
	}
}

func TestAcquireOverBudget(t *testing.T) {
	b := budget.New(1000)
	_, err := b.Acquire(context.Background(), 1001, "a big image")
	var oe *budget.OverError
	if !errors.As(err, &oe) || !errors.Is(err, budget.ErrOverBudget) {
		t.Fatalf("Acquire(1001) of 1000 = %v, want an *OverError", err)
	}
	if oe.Need != 1001 || oe.Budget != 1000 || oe.What != "a big image" {
		t.Errorf("OverError = %+v", oe)
	}
	if err := b.Check(1001, "x"); !errors.Is(err, budget.ErrOverBudget) {
		t.Errorf("Check(1001) = %v", err)
	}
	if err := b.Check(1000, "x"); err != nil {
		t.Errorf("Check(1000) = %v", err)
	}
}

func TestAcquireWaitsAndHonoursContext(t *testing.T) {
	b := budget.New(1000)
	release, err := b.Acquire(context.Background(), 600, "first")
	if err != nil {
		t.Fatal(err)
	}
	// The second does not fit beside the first: it waits, and gives up
	// when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.Acquire(ctx, 600, "second")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("second Acquire returned %v while the first held the budget", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire = %v, want context.Canceled", err)
	}
	// Released (twice: the second call is a no-op), the budget is whole
	// again.
	release()
	release()
	r2, err := b.Acquire(context.Background(), 1000, "all")
	if err != nil {
		t.Fatal(err)
	}
	r2()
}

func TestProcess(t *testing.T) {
	if budget.Or(nil) != budget.Process() {
		t.Error("Or(nil) is not the process budget")
	}
	b := budget.New(5)
	if budget.Or(b) != b {
		t.Error("Or(b) is not b")
	}
	if budget.Process().Size() != budget.DefaultSize {
		t.Errorf("process budget %d, want %d", budget.Process().Size(), budget.DefaultSize)
	}
	if budget.New(0).Size() != budget.DefaultSize {
		t.Error("New(0) is not the default size")
	}
}

func FuzzImageCost(f *testing.F) {
	f.Add(pngHeader(10000, 9999, 16, 6, 0))
	f.Add(pngHeader(3, 3, 8, 0, 1, "tRNS"))
	f.Add(pngHeader(1, 1, 4, 3, 0, "PLTE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, _, n, _, err := budget.ImageCost(data)
		if err != nil {
			return
		}
		px := int64(max(cfg.Width, 0)) * int64(max(cfg.Height, 0))
		if n < px || n > 16*px {
			t.Fatalf("%d bytes for %dx%d", n, cfg.Width, cfg.Height)
		}
	})
}
