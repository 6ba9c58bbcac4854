package downsample

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
)

// coarse averages img into a gx x gy grid of grey levels.
func coarse(img image.Image, gx, gy int) []float64 {
	b := img.Bounds()
	sum := make([]float64, gx*gy)
	n := make([]float64, gx*gy)
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			i := (y-b.Min.Y)*gy/b.Dy()*gx + (x-b.Min.X)*gx/b.Dx()
			sum[i] += (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			n[i]++
		}
	}
	for i := range sum {
		sum[i] /= n[i]
	}
	return sum
}

func meanAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d += math.Abs(a[i] - b[i])
	}
	return d / float64(len(a))
}

// TestCorpusOrientationsUpright fits every orientation of the corpus's
// Landscape and Portrait photos (EXIF 0..8) and checks that the output is
// upright: the reference's size and, on a coarse 12x8 grid, its pixels.
// The same comparison against the reference turned 180 degrees must fail,
// so the check can tell orientations apart.
func TestCorpusOrientationsUpright(t *testing.T) {
	dir := corpusDir(t, filepath.Join("jpeg", "exif-orientation"))
	f, err := NewFitter(Options{MinLongEdge: 600})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"Landscape", "Portrait"}
	if raceEnabled || testing.Short() {
		kinds = kinds[:1] // Landscape_0..8 already cover every orientation
	}
	for _, kind := range kinds {
		refData, err := os.ReadFile(filepath.Join(dir, kind+"_1.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		ref, err := jpeg.Decode(bytes.NewReader(refData))
		if err != nil {
			t.Fatal(err)
		}
		for o := 0; o <= 8; o++ {
			t.Run(fmt.Sprintf("%s_%d", kind, o), func(t *testing.T) {
				t.Parallel()
				data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s_%d.jpg", kind, o)))
				if err != nil {
					t.Fatal(err)
				}
				const budget = 150_000 // well under the ~250-350 KB originals
				out, rep, err := f.FitJPEG(context.Background(), data, budget)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) > budget {
					t.Fatalf("output %d bytes, over %d", len(out), budget)
				}
				got, err := jpeg.Decode(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				rb, gb := ref.Bounds(), got.Bounds()
				if (rb.Dx() > rb.Dy()) != (gb.Dx() > gb.Dy()) {
					t.Fatalf("output %dx%d, reference %dx%d: not upright", gb.Dx(), gb.Dy(), rb.Dx(), rb.Dy())
				}
				if gb.Dx() != rep.FinalWidth || gb.Dy() != rep.FinalHeight {
					t.Errorf("report says %dx%d, output is %dx%d", rep.FinalWidth, rep.FinalHeight, gb.Dx(), gb.Dy())
				}
				gx, gy := 12, 8
				if rb.Dx() < rb.Dy() {
					gx, gy = 8, 12
				}
				want, have := coarse(ref, gx, gy), coarse(got, gx, gy)
				upright := meanAbsDiff(want, have)
				turned := meanAbsDiff(coarse(imaging.Rotate180(ref), gx, gy), have)
				if upright > 6 || turned < 2*upright {
					t.Errorf("mean grey difference to upright reference %.1f, to the reference turned 180 degrees %.1f", upright, turned)
				}
			})
		}
	}
}

// TestOrientMatchesImaging checks the plane-wise orientation of every
// image type against imaging's transforms (which imaging.Decode's
// AutoOrientation uses).
func TestOrientMatchesImaging(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for y := range 5 {
		for x := range 7 {
			src.SetNRGBA(x, y, color.NRGBA{uint8(30 * x), uint8(50 * y), uint8(7*x + 11*y), 255})
		}
	}
	want := map[int]*image.NRGBA{
		1: imaging.Clone(src), 2: imaging.FlipH(src), 3: imaging.Rotate180(src), 4: imaging.FlipV(src),
		5: imaging.Transpose(src), 6: imaging.Rotate270(src), 7: imaging.Transverse(src), 8: imaging.Rotate90(src),
	}
	gray := image.NewGray(src.Rect)
	for i := range gray.Pix {
		gray.Pix[i] = src.Pix[4*i]
	}
	for o := 1; o <= 8; o++ {
		for _, tc := range []struct {
			name string
			img  image.Image
			cmp  func(a image.Image, w *image.NRGBA) bool
		}{
			{"nrgba", src, sameRGB},
			{"rgba", imageRGBA(src), sameRGB},
			{"gray", gray, func(a image.Image, w *image.NRGBA) bool {
				g := a.(*image.Gray)
				for i := range g.Pix {
					if g.Pix[i] != w.Pix[4*i] {
						return false
					}
				}
				return g.Rect == w.Rect
			}},
		} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, o), func(t *testing.T) {
				if got := orient(tc.img, o); !tc.cmp(got, want[o]) {
					t.Errorf("orientation %d differs from imaging", o)
				}
			})
		}
	}
}

func imageRGBA(n *image.NRGBA) *image.RGBA {
	return &image.RGBA{Pix: bytes.Clone(n.Pix), Stride: n.Stride, Rect: n.Rect}
}

func sameRGB(a image.Image, w *image.NRGBA) bool {
	if a.Bounds() != w.Rect {
		return false
	}
	for y := range w.Rect.Dy() {
		for x := range w.Rect.Dx() {
			c1 := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			c2 := w.NRGBAAt(x, y)
			if c1.R != c2.R || c1.G != c2.G || c1.B != c2.B {
				return false
			}
		}
	}
	return true
}

// TestOrientYCbCr turns YCbCr images of every subsample ratio and checks
// them pixel by pixel against the same turn of their RGBA conversion. The
// sizes are multiples of the chroma blocks: with odd sizes a flipped
// chroma plane is off by half a chroma sample, which is invisible.
func TestOrientYCbCr(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, r := range ratios {
		m := image.NewYCbCr(image.Rect(0, 0, 8, 6), r)
		for i := range m.Y {
			m.Y[i] = uint8(i * 7)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*13), uint8(255-i*5)
		}
		rgba := image.NewNRGBA(m.Rect)
		for y := range 6 {
			for x := range 8 {
				rgba.Set(x, y, m.At(x, y))
			}
		}
		for o := 1; o <= 8; o++ {
			t.Run(fmt.Sprintf("%v/%d", r, o), func(t *testing.T) {
				got := orient(m, o)
				if !sameRGB(got, orient(rgba, o).(*image.NRGBA)) {
					t.Errorf("YCbCr %v orientation %d differs", r, o)
				}
			})
		}
	}
}
