package jpegenc

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

func testImage() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, 67, 45))
	for y := range 45 {
		for x := range 67 {
			m.SetRGBA(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), uint8(x*y + 7), 255})
		}
	}
	return m
}

// TestIntegerQualityMatchesImageJPEG: for integer qualities the output is
// byte for byte image/jpeg's, for colour and grey.
func TestIntegerQualityMatchesImageJPEG(t *testing.T) {
	rgba := testImage()
	gray := image.NewGray(rgba.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = rgba.Pix[4*i]
	}
	for _, img := range []image.Image{rgba, gray} {
		for _, q := range []int{1, 10, 33, 49, 50, 60, 75, 81, 90, 100} {
			var a, b bytes.Buffer
			if err := Encode(&a, img, float64(q)); err != nil {
				t.Fatal(err)
			}
			if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("%T quality %d: output differs from image/jpeg", img, q)
			}
		}
	}
}

// TestFractionalQualityBetweenSteps: a fractional quality gives a size
// between its integer neighbours', and decodes.
func TestFractionalQualityBetweenSteps(t *testing.T) {
	img := testImage()
	size := func(q float64) int {
		var b bytes.Buffer
		if err := Encode(&b, img, q); err != nil {
			t.Fatal(err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(b.Bytes())); err != nil {
			t.Fatal(err)
		}
		return b.Len()
	}
	lo, mid, hi := size(80), size(80.5), size(81)
	if mid < lo || mid > hi {
		t.Errorf("sizes q80 %d, q80.5 %d, q81 %d: not in order", lo, mid, hi)
	}
}
