// Command imgtool generates test photos, fits them with gpdoc's downsample
// core, and scores results, for benchmarks/compare-imagemagick.sh:
//
//	imgtool gen -w 6000 -h 4000 -format jpeg -o photo.jpg
//	imgtool fit -max 5000000 -o out.jpg photo.jpg
//	imgtool score original.jpg result.jpg
//
// score prints the SSIM (mean over all 8x8 windows, on BT.601 luma) and the
// PSNR of result against original resized to result's size with imaging's
// Lanczos filter (a filter neither tool under comparison uses), so both
// tools' outputs are judged by the same code.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"time"

	"github.com/disintegration/imaging"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/stages/downsample"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: imgtool gen|fit|score ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "fit":
		err = fit(os.Args[2:])
	case "score":
		err = score(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgtool:", err)
		os.Exit(1)
	}
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	w := fs.Int("w", 6000, "width")
	h := fs.Int("h", 4000, "height")
	format := fs.String("format", "jpeg", "jpeg or png")
	q := fs.Int("q", 95, "JPEG quality")
	out := fs.String("o", "", "output file")
	fs.Parse(args)
	img := testimage.Photo(*w, *h, 1)
	var b bytes.Buffer
	var err error
	if *format == "png" {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: *q})
	}
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b.Bytes(), 0o644)
}

func fit(args []string) error {
	fs := flag.NewFlagSet("fit", flag.ExitOnError)
	max := fs.Int64("max", 5_000_000, "budget in bytes")
	out := fs.String("o", "", "output file")
	fs.Parse(args)
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	start := time.Now()
	var res []byte
	var rep downsample.Report
	if bytes.HasPrefix(data, []byte("\x89PNG")) {
		res, rep, err = downsample.FitPNG(context.Background(), data, downsample.PNGLosslessThenJPEG, downsample.Options{MaxBytes: *max})
	} else {
		res, rep, err = downsample.FitJPEG(context.Background(), data, downsample.Options{MaxBytes: *max})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "fit in %v: %dx%d q%g, %d full + %d sample encodes\n", time.Since(start).Round(time.Millisecond),
		rep.FinalWidth, rep.FinalHeight, rep.Quality, rep.Encodes, rep.SampleEncodes)
	if os.Getenv("IMGTOOL_STEPS") != "" {
		for _, s := range rep.Steps {
			fmt.Fprintln(os.Stderr, "  ", s)
		}
	}
	return os.WriteFile(*out, res, 0o644)
}

func load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

func score(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: imgtool score original result")
	}
	orig, err := load(args[0])
	if err != nil {
		return err
	}
	res, err := load(args[1])
	if err != nil {
		return err
	}
	rb := res.Bounds()
	if orig.Bounds().Size() != rb.Size() {
		orig = imaging.Resize(orig, rb.Dx(), rb.Dy(), imaging.Lanczos)
	}
	a, b := luma(orig), luma(res)
	fmt.Printf("%.4f %.2f\n", ssim(a, b, rb.Dx(), rb.Dy()), psnr(a, b))
	return nil
}

func luma(img image.Image) []float64 {
	b := img.Bounds()
	out := make([]float64, 0, b.Dx()*b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, (0.299*float64(r)+0.587*float64(g)+0.114*float64(bl))/257)
		}
	}
	return out
}

// ssim is the mean SSIM over every 8x8 window, computed with integral
// images (constants of Wang et al. 2004 for 8-bit data).
func ssim(a, b []float64, w, h int) float64 {
	const n = 8
	c1, c2 := math.Pow(0.01*255, 2), math.Pow(0.03*255, 2)
	W := w + 1
	ia, ib := make([]float64, W*(h+1)), make([]float64, W*(h+1))
	iaa, ibb, iab := make([]float64, W*(h+1)), make([]float64, W*(h+1)), make([]float64, W*(h+1))
	for y := 1; y <= h; y++ {
		var sa, sb, saa, sbb, sab float64
		for x := 1; x <= w; x++ {
			va, vb := a[(y-1)*w+x-1], b[(y-1)*w+x-1]
			sa, sb, saa, sbb, sab = sa+va, sb+vb, saa+va*va, sbb+vb*vb, sab+va*vb
			i := y*W + x
			ia[i], ib[i] = ia[i-W]+sa, ib[i-W]+sb
			iaa[i], ibb[i], iab[i] = iaa[i-W]+saa, ibb[i-W]+sbb, iab[i-W]+sab
		}
	}
	box := func(t []float64, x, y int) float64 {
		return t[(y+n)*W+x+n] - t[y*W+x+n] - t[(y+n)*W+x] + t[y*W+x]
	}
	total, count := 0.0, 0
	for y := 0; y+n <= h; y++ {
		for x := 0; x+n <= w; x++ {
			const k = n * n
			ma, mb := box(ia, x, y)/k, box(ib, x, y)/k
			va := box(iaa, x, y)/k - ma*ma
			vb := box(ibb, x, y)/k - mb*mb
			cov := box(iab, x, y)/k - ma*mb
			total += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			count++
		}
	}
	return total / float64(count)
}

func psnr(a, b []float64) float64 {
	mse := 0.0
	for i := range a {
		d := a[i] - b[i]
		mse += d * d
	}
	mse /= float64(len(a))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}
