package downsample

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/draw"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/transcode"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// transcodeAt transcodes data (turned upright for orientation o) at
// quality q.
func transcodeAt(t testing.TB, data []byte, o int, q float64) ([]byte, error) {
	t.Helper()
	m, err := coef.Decode(data)
	if err != nil {
		return nil, err
	}
	tc, err := transcode.New(m, o)
	if err != nil {
		return nil, err
	}
	tt, err := tc.Tables(q)
	if err != nil {
		return nil, err
	}
	return tc.Encode(context.Background(), tt)
}

// corpusJPEGs returns every .jpg/.jpeg under the corpus's jpeg folder.
func corpusJPEGs(t *testing.T) map[string][]byte {
	t.Helper()
	root := corpusDir(t, "jpeg")
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".jpg" || ext == ".jpeg" {
			b, err := os.ReadFile(p)
			files[strings.TrimPrefix(p, root+string(filepath.Separator))] = b
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func generatedJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// maxDiff is the largest difference of any R, G or B sample of a and b
// (the same size), in 8-bit levels, and the mean difference.
func maxDiff(a, b image.Image) (worst int, mean float64) {
	ra, rb := rgba(a), rgba(b)
	n := 0
	for i := range ra.Pix {
		if i%4 == 3 {
			continue
		}
		d := int(ra.Pix[i]) - int(rb.Pix[i])
		d = max(d, -d)
		worst = max(worst, d)
		mean += float64(d)
		n++
	}
	return worst, mean / float64(n)
}

func rgba(img image.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(out, out.Rect, img, img.Bounds().Min, draw.Src)
	return out
}

// TestTranscodeKeepsPixels transcodes every corpus JPEG that can be, and
// generated ones, at quality 100: every output step is then the source's,
// so the coefficients are copied and the output must decode to exactly
// the source's pixels. This checks the writer (headers, sampling factors,
// Huffman tables, restart markers) on baseline and progressive, grey,
// 4:4:4, 4:2:2, 4:2:0 and 4:1:0 sources.
func TestTranscodeKeepsPixels(t *testing.T) {
	files := corpusJPEGs(t)
	files["generated 4:2:0"] = generatedJPEG(t, testimage.Photo(333, 217, 5), 90)
	files["generated grey"] = generatedJPEG(t, toGray(testimage.Photo(101, 67, 6)), 75)
	n := 0
	for name, data := range files {
		if (raceEnabled || testing.Short()) && len(data) > 300_000 {
			continue // the big photos take a minute under -race
		}
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			continue // image/jpeg refuses it; so does FitJPEG
		}
		out, err := transcodeAt(t, data, 1, 100)
		if errors.Is(err, transcode.ErrNoTranscode) {
			if _, ycc := want.(*image.YCbCr); ycc {
				t.Errorf("%s: a YCbCr image was not transcoded: %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Errorf("%s: output does not decode: %v", name, err)
			continue
		}
		if got.Bounds() != want.Bounds() {
			t.Errorf("%s: output %v, source %v", name, got.Bounds(), want.Bounds())
			continue
		}
		if worst, _ := maxDiff(got, want); worst != 0 {
			t.Errorf("%s: output differs from the source by up to %d levels; want identical pixels", name, worst)
		}
		n++
	}
	if n < 20 {
		t.Errorf("only %d JPEGs transcoded", n)
	}
	t.Logf("%d JPEGs transcoded to identical pixels", n)
}

func toGray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

// TestTranscodeOrientations turns sources of every sampling layout upright
// in the DCT domain for EXIF orientations 2 to 8 and compares the result
// with image/jpeg's pixels turned by orient. The inverse DCT rounds a
// transposed or mirrored block a little differently, so a level or two
// of difference is expected; a wrong move or sign is tens of levels.
func TestTranscodeOrientations(t *testing.T) {
	sources := map[string][]byte{
		"generated 4:2:0": generatedJPEG(t, testimage.Photo(256, 144, 7), 90),
		"generated grey":  generatedJPEG(t, toGray(testimage.Photo(96, 40, 8)), 90),
	}
	corpus := corpusJPEGs(t)
	for _, name := range []string{
		"pillow/sugarshack_bad_mpo_header.jpg",        // 4:2:2
		"pillow/invalid-exif.jpg",                     // 4:4:4
		"jpeg-decoder/extraneous-bytes-after-sos.jpg", // 4:2:0, 1744x2464
	} {
		if b, ok := corpus[filepath.FromSlash(name)]; ok {
			sources[name] = b
		} else {
			t.Errorf("corpus file %s missing", name)
		}
	}
	for name, data := range sources {
		if (raceEnabled || testing.Short()) && len(data) > 300_000 {
			continue // the big photo takes a minute under -race
		}
		src, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for o := 2; o <= 8; o++ {
			out, err := transcodeAt(t, data, o, 100)
			if err != nil {
				t.Errorf("%s orientation %d: %v", name, o, err)
				continue
			}
			got, err := jpeg.Decode(bytes.NewReader(out))
			if err != nil {
				t.Errorf("%s orientation %d: output does not decode: %v", name, o, err)
				continue
			}
			want := orient(src, o)
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Errorf("%s orientation %d: output %v, want %v", name, o, got.Bounds().Size(), want.Bounds().Size())
				continue
			}
			worst, mean := maxDiff(got, want)
			if worst > 4 || mean > 0.1 {
				t.Errorf("%s orientation %d: differs from orient(source) by up to %d levels (mean %.2f)", name, o, worst, mean)
			}
			t.Logf("%s orientation %d: up to %d levels (mean %.3f)", name, o, worst, mean)
		}
	}
}

func TestTranscodeRefuses(t *testing.T) {
	corpus := corpusJPEGs(t)
	for _, tc := range []struct {
		name string
		o    int
	}{
		{"go/video-001.cmyk.jpeg", 1},           // four components
		{"jpeg-decoder/ycck.jpg", 1},            // four components
		{"exif-orientation/Landscape_6.jpg", 6}, // 1200x1800: not whole 16x16 MCUs
		{"go/video-001.q50.420.jpeg", 3},        // 150x103
	} {
		data := corpus[filepath.FromSlash(tc.name)]
		if data == nil {
			t.Errorf("corpus file %s missing", tc.name)
			continue
		}
		if _, err := transcodeAt(t, data, tc.o, 80); !errors.Is(err, transcode.ErrNoTranscode) {
			t.Errorf("%s orientation %d: err = %v, want transcode.ErrNoTranscode", tc.name, tc.o, err)
		}
	}
}

// TestTranscodeRequantises checks that a lower quality gives a smaller
// file close to the source, and that the estimate from sample rows is
// close to the full encode.
func TestTranscodeRequantises(t *testing.T) {
	data := generatedJPEG(t, testimage.Photo(1600, 1200, 9), 95)
	src, _ := jpeg.Decode(bytes.NewReader(data))
	m, err := coef.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := transcode.New(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	prev := len(data) + 1
	for _, q := range []float64{90, 80, 70, 60} {
		tt, err := tc.Tables(q)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tc.Encode(context.Background(), tt)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) >= prev {
			t.Errorf("quality %v: %d bytes, not under the %d of the quality above", q, len(out), prev)
		}
		prev = len(out)
		got, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("quality %v: %v", q, err)
		}
		if worst, mean := maxDiff(got, src); mean > 6 {
			t.Errorf("quality %v: mean difference %.1f levels (worst %d)", q, mean, worst)
		}
		est, err := tc.Estimate(context.Background(), tt, max(1, tc.MCURows()/24))
		if err != nil {
			t.Fatal(err)
		}
		if r := est / float64(len(out)); r < 0.97 || r > 1.03 {
			t.Errorf("quality %v: estimate %.0f, encoded %d", q, est, len(out))
		}
	}
}

// TestFitJPEGTranscodes checks the route FitJPEG takes: a photo that fits
// by re-quantising is never decoded to pixels; one that must be scaled is.
func TestFitJPEGTranscodes(t *testing.T) {
	data := generatedJPEG(t, testimage.Photo(2400, 1600, 10), 95)
	for _, tc := range []struct {
		budget     int64
		wantPixels bool
	}{{int64(len(data)) * 2 / 3, false}, {int64(len(data)) / 12, true}} {
		out, rep, err := FitJPEG(context.Background(), data, Options{MaxBytes: tc.budget})
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(out)) > tc.budget {
			t.Errorf("budget %d: %d bytes", tc.budget, len(out))
		}
		if pixels := slices.Contains(rep.Steps, "decoded"); pixels != tc.wantPixels {
			t.Errorf("budget %d: decoded pixels = %v, want %v (steps %q)", tc.budget, pixels, tc.wantPixels, rep.Steps)
		}
		if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
			t.Errorf("budget %d: output does not decode: %v", tc.budget, err)
		}
	}
}

// FuzzTranscode: whatever internal/jpeg/coef reads and the transcoder accepts, at
// any orientation and quality, encodes to a JPEG image/jpeg decodes at
// the upright size.
func FuzzTranscode(f *testing.F) {
	f.Add(generatedJPEG(f, testimage.Photo(48, 32, 1), 80), uint8(6), uint8(70))
	f.Add(generatedJPEG(f, toGray(testimage.Photo(24, 16, 2)), 50), uint8(3), uint8(95))
	// The corpus's small JPEGs, when it is there: progressive, 4:2:2,
	// 4:4:4 and damaged files.
	for _, root := range []string{os.Getenv("GPDOC_CORPUS"), filepath.Join("..", "..", "..", "shared", "corpus")} {
		if root == "" {
			continue
		}
		_ = filepath.WalkDir(filepath.Join(root, "jpeg"), func(p string, d fs.DirEntry, err error) error {
			ext := strings.ToLower(filepath.Ext(p))
			if err == nil && !d.IsDir() && (ext == ".jpg" || ext == ".jpeg") {
				if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
					f.Add(b, uint8(len(b)%8), uint8(len(b)%100))
				}
			}
			return nil
		})
		break
	}
	f.Fuzz(func(t *testing.T, data []byte, o, q uint8) {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<18 {
			return
		}
		o = o%8 + 1
		out, err := transcodeAt(t, data, int(o), float64(q%100+1))
		if err != nil {
			return
		}
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		w, h := upright(cfg.Width, cfg.Height, int(o))
		if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Fatalf("output %v, want %dx%d", img.Bounds(), w, h)
		}
	})
}
