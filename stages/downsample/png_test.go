package downsample

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/gpdoc/gpdoc/internal/testimage"
)

func encodePNG(t testing.TB, img image.Image, level png.CompressionLevel) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: level}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFitPNG(t *testing.T) {
	chart := testimage.Graphic(1600, 1200, 12, false)
	chartPNG := encodePNG(t, chart, png.NoCompression) // about 7.7 MB
	transparent := testimage.Graphic(1200, 900, 12, true)
	transparentPNG := encodePNG(t, transparent, png.NoCompression)
	photo := testimage.Photo(1600, 1200, 3)
	photoPNG := encodePNG(t, photo, png.BestSpeed)

	tests := []struct {
		name          string
		data          []byte
		mode          PNGMode
		budget        int64
		wantMIME      string
		wantFlattened bool
		wantErr       error
		check         func(t *testing.T, out image.Image)
	}{
		{"palette reduction, lossless", chartPNG, PNGLosslessThenJPEG, 1_000_000, "image/png", false, nil,
			func(t *testing.T, out image.Image) {
				if _, ok := out.(*image.Paletted); !ok {
					t.Errorf("output is %T, want a palette image", out)
				}
				if !samePixels(chart, out) {
					t.Error("palette reduction changed pixels")
				}
			}},
		{"photo falls back to JPEG", photoPNG, PNGLosslessThenJPEG, 1_000_000, "image/jpeg", false, nil, nil},
		{"lossless only cannot fit", photoPNG, PNGLosslessOnly, 1_000_000, "", false, ErrCannotFit, nil},
		{"route without PNG: converted, transparency flattened", transparentPNG, PNGToJPEG, 5_000_000, "image/jpeg", true, nil,
			func(t *testing.T, out image.Image) {
				r, g, b, _ := out.At(5, 5).RGBA() // in the transparent border
				if r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
					t.Errorf("transparent corner is (%d,%d,%d), want white", r>>8, g>>8, b>>8)
				}
				if out.Bounds() != transparent.Bounds() {
					t.Errorf("size %v, want %v", out.Bounds(), transparent.Bounds())
				}
			}},
		{"route without PNG, small opaque chart", encodePNG(t, testimage.Graphic(300, 200, 5, false), png.DefaultCompression), PNGToJPEG, 5_000_000, "image/jpeg", false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rep, err := FitPNG(context.Background(), tt.data, tt.mode, Options{MaxBytes: tt.budget})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(out)) > tt.budget {
				t.Fatalf("output %d bytes, over %d", len(out), tt.budget)
			}
			if rep.OutputMIME != tt.wantMIME || rep.Flattened != tt.wantFlattened {
				t.Fatalf("report %+v: want %s, flattened %v", rep, tt.wantMIME, tt.wantFlattened)
			}
			var img image.Image
			if tt.wantMIME == "image/png" {
				img, err = png.Decode(bytes.NewReader(out))
			} else {
				img, err = jpeg.Decode(bytes.NewReader(out))
			}
			if err != nil {
				t.Fatalf("output does not decode as %s: %v", tt.wantMIME, err)
			}
			if tt.check != nil {
				tt.check(t, img)
			}
			t.Logf("%d -> %d bytes %s: %v", len(tt.data), len(out), rep.OutputMIME, rep.Steps)
		})
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.NRGBAModel.Convert(a.At(x, y)) != color.NRGBAModel.Convert(b.At(x, y)) {
				return false
			}
		}
	}
	return true
}

func TestToPaletted(t *testing.T) {
	few := testimage.Graphic(64, 64, 200, true)
	many := testimage.Photo(64, 64, 1)
	tests := []struct {
		name string
		img  image.Image
		want bool
	}{
		{"200 colours with alpha", few, true},
		{"photo", many, false},
		{"gray is left alone", image.NewGray(image.Rect(0, 0, 4, 4)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := toPaletted(tt.img)
			if (p != nil) != tt.want {
				t.Fatalf("toPaletted = %v, want palette %v", p != nil, tt.want)
			}
			if p != nil && !samePixels(tt.img, p) {
				t.Error("palette image differs")
			}
		})
	}
}

func FuzzFitPNG(f *testing.F) {
	f.Add(encodePNG(f, testimage.Graphic(40, 30, 3, true), png.DefaultCompression))
	f.Add(encodePNG(f, testimage.Photo(24, 16, 2), png.NoCompression))
	f.Add(pngHeader(1<<20, 1<<20))
	fit, err := NewFitter(Options{MaxBytes: 500, MaxPixels: 1 << 20, MinLongEdge: 8})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := fit.FitPNG(context.Background(), data, 500, PNGLosslessThenJPEG)
		if err == nil && len(out) > 500 {
			t.Fatalf("no error but output is %d bytes", len(out))
		}
		var fe *FitError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FitError", err)
		}
	})
}

func FuzzFitJPEG(f *testing.F) {
	var b bytes.Buffer
	jpeg.Encode(&b, testimage.Photo(48, 32, 5), &jpeg.Options{Quality: 95})
	f.Add(b.Bytes())
	f.Add(withOrientation(f, b.Bytes(), 6, false))
	f.Add(tinyJPEG(f))
	fit, err := NewFitter(Options{MaxBytes: 600, MaxPixels: 1 << 20, MinLongEdge: 8})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := fit.FitJPEG(context.Background(), data, 600)
		if err == nil && len(out) > 600 {
			t.Fatalf("no error but output is %d bytes", len(out))
		}
		var fe *FitError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *FitError", err)
		}
	})
}
