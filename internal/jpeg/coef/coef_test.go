package coef

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
	"github.com/gpdoc/gpdoc/internal/testimage"
)

// samePixels reports where a and b (image/jpeg's types) differ.
func samePixels(t *testing.T, name string, got, want image.Image) {
	t.Helper()
	if got.Bounds() != want.Bounds() {
		t.Errorf("%s: bounds %v, image/jpeg %v", name, got.Bounds(), want.Bounds())
		return
	}
	switch w := want.(type) {
	case *image.YCbCr:
		g, ok := got.(*image.YCbCr)
		if !ok || g.SubsampleRatio != w.SubsampleRatio {
			t.Errorf("%s: got %T, image/jpeg %T %v", name, got, want, w.SubsampleRatio)
			return
		}
	case *image.Gray:
		if _, ok := got.(*image.Gray); !ok {
			t.Errorf("%s: got %T, image/jpeg %T", name, got, want)
			return
		}
	}
	b := want.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if g, w := got.At(x, y), want.At(x, y); g != w {
				t.Errorf("%s: pixel (%d,%d) is %v, image/jpeg %v", name, x, y, g, w)
				return
			}
		}
	}
}

// check decodes data both ways and compares, and checks that Check
// accepts data exactly when image/jpeg decodes it; it returns false when
// image/jpeg refuses data.
func check(t *testing.T, name string, data []byte) bool {
	t.Helper()
	sameAsExact(t, name, data)
	want, werr := jpeg.Decode(bytes.NewReader(data))
	if cerr := Check(data); (cerr == nil) != (werr == nil) {
		t.Errorf("%s: image/jpeg.Decode: %v; Check: %v", name, werr, cerr)
	}
	m, err := Decode(data)
	if werr != nil {
		return false
	}
	if err != nil {
		t.Errorf("%s: image/jpeg decodes it, Decode: %v", name, err)
		return true
	}
	var held int64
	for _, c := range m.Components {
		held += int64(len(c.Blocks)) * 128
	}
	if n := CheckBytes(m.Width, m.Height, true); n < held {
		t.Errorf("%s: CheckBytes = %d, less than the %d bytes of its coefficients", name, n, held)
	}
	got, err := m.Pixels(context.Background(), 1)
	if errors.Is(err, ErrNotYCbCr) {
		if _, ok := want.(*image.YCbCr); ok {
			t.Errorf("%s: Pixels refused a YCbCr image", name)
		}
		if _, ok := want.(*image.Gray); ok {
			t.Errorf("%s: Pixels refused a grey image", name)
		}
		return true
	}
	if err != nil {
		t.Fatalf("%s: Pixels: %v", name, err)
	}
	samePixels(t, name, got, want)
	if m.Width*m.Height <= 1<<18 {
		checkUpright(t, name, m, got)
	}
	// The second decode reuses the first's released blocks (spare.go),
	// filled with garbage here: what it reads must not depend on them.
	m.Release()
	spare.Lock()
	for _, slab := range spare.slabs {
		for i := range slab[:cap(slab)] {
			for k := range blockSize {
				slab[:cap(slab)][i][k] = int16(0x5A5A ^ i ^ k)
			}
		}
	}
	spare.Unlock()
	m2, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	inPlace, err := m2.PixelsInPlace(context.Background())
	if err != nil {
		t.Fatalf("%s: PixelsInPlace: %v", name, err)
	}
	samePixels(t, name+" (in place)", inPlace, want)
	if m2.Components[0].Blocks != nil {
		t.Errorf("%s: PixelsInPlace left the coefficients readable", name)
	}
	return true
}

// sameAsExact decodes data with the fast paths and without them (exact:
// image/jpeg's way of reading every table) and checks that both give the
// same coefficients and the same error, and that Check gives that error.
func sameAsExact(t *testing.T, name string, data []byte) {
	t.Helper()
	exact, fast, check := decoder{exact: true}, decoder{}, decoder{checkOnly: true}
	eerr, ferr, cerr := exact.decode(data, false), fast.decode(data, false), check.decode(data, false)
	if ferr != eerr || cerr != eerr {
		t.Errorf("%s: error %v, Check's %v, without the fast paths %v", name, ferr, cerr, eerr)
		return
	}
	for i := range exact.coeffs {
		e, f := exact.coeffs[i], fast.coeffs[i]
		if len(e) != len(f) {
			t.Errorf("%s: component %d has %d blocks, without the fast paths %d", name, i, len(f), len(e))
			return
		}
		for k := range e {
			if e[k] != f[k] {
				t.Errorf("%s: component %d block %d is %v, without the fast paths %v", name, i, k, f[k], e[k])
				return
			}
		}
	}
}

// TestPhotosSameAsExact compares the fast paths with image/jpeg's way on
// photo-like images at the qualities phones and cameras use.
func TestPhotosSameAsExact(t *testing.T) {
	for _, q := range []int{75, 90, 95, 100} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, testimage.Photo(320, 240, uint64(q)), &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		sameAsExact(t, fmt.Sprintf("photo q%d", q), buf.Bytes())
	}
}

// checkUpright compares Pixels with each orientation against the stored
// pixels turned plane by plane.
func checkUpright(t *testing.T, name string, m *Image, stored image.Image) {
	t.Helper()
	type plane struct {
		pix     []byte
		stride  int
		w, h    int // stored size
		uPix    []byte
		uStride int
	}
	for o := 2; o <= 8; o++ {
		got, err := m.Pixels(context.Background(), o)
		if errors.Is(err, ErrNotYCbCr) && orientation.Transposes(o) {
			continue // 4:1:1 and 4:1:0 are not turned
		}
		if err != nil {
			t.Fatalf("%s: Pixels(%d): %v", name, o, err)
		}
		var planes []plane
		switch s := stored.(type) {
		case *image.Gray:
			g := got.(*image.Gray)
			planes = append(planes, plane{s.Pix, s.Stride, m.Width, m.Height, g.Pix, g.Stride})
		case *image.YCbCr:
			g := got.(*image.YCbCr)
			c0, c1 := m.Components[0], m.Components[1]
			cw, ch := (m.Width*c1.H+c0.H-1)/c0.H, (m.Height*c1.V+c0.V-1)/c0.V
			planes = append(planes, plane{s.Y, s.YStride, m.Width, m.Height, g.Y, g.YStride},
				plane{s.Cb, s.CStride, cw, ch, g.Cb, g.CStride}, plane{s.Cr, s.CStride, cw, ch, g.Cr, g.CStride})
		}
		for i, p := range planes {
			uw, uh := p.w, p.h
			if orientation.Transposes(o) {
				uw, uh = uh, uw
			}
			for y := range uh {
				for x := range uw {
					sx, sy := orientation.Src(o, x, y, p.w, p.h)
					if a, b := p.uPix[y*p.uStride+x], p.pix[sy*p.stride+sx]; a != b {
						t.Fatalf("%s: orientation %d plane %d: upright (%d,%d) is %d, stored (%d,%d) %d", name, o, i, x, y, a, sx, sy, b)
					}
				}
			}
		}
	}
}

// checkRefused checks that Decode refuses data, which image/jpeg refuses,
// unless image/jpeg refuses it only for its colour model: a 4-component
// image without an Adobe APP14 segment, whose coefficients are fine.
func checkRefused(t *testing.T, name string, data []byte) {
	t.Helper()
	if m, err := Decode(data); err == nil && !(len(m.Components) == 4 && !m.Adobe) {
		_, werr := jpeg.Decode(bytes.NewReader(data))
		t.Errorf("%s: image/jpeg refuses it (%v), Decode accepts it", name, werr)
	}
}

func TestCorpusMatchesImageJPEG(t *testing.T) {
	root := corpustest.Dir(t)
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(p))
		if ext != ".jpg" && ext != ".jpeg" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if check(t, p, data) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("only %d corpus JPEGs decoded; expected the corpus's photos", n)
	}
	t.Logf("%d corpus JPEGs: coefficients reconstruct to image/jpeg's pixels", n)
}

func TestGeneratedMatchesImageJPEG(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		w, h int
		gray bool
		q    int
	}{{1, 1, false, 75}, {17, 9, false, 90}, {33, 31, true, 50}, {64, 48, false, 100}, {70, 20, true, 10}, {250, 130, false, 85}} {
		var img image.Image
		if tc.gray {
			g := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
			for i := range g.Pix {
				g.Pix[i] = uint8(r.IntN(256))
			}
			img = g
		} else {
			c := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
			for y := range tc.h {
				for x := range tc.w {
					c.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), uint8(r.IntN(256)), 255})
				}
			}
			img = c
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: tc.q}); err != nil {
			t.Fatal(err)
		}
		if !check(t, "generated", buf.Bytes()) {
			t.Fatalf("image/jpeg refused its own %dx%d encoding", tc.w, tc.h)
		}
	}
}

func TestRefusesWhatImageJPEGRefuses(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("\xff\xd8"), []byte("\xff\xd8\xff\xd9"), []byte("not a jpeg")} {
		if _, err := Decode(data); err == nil {
			t.Errorf("Decode(%q) succeeded", data)
		}
	}
}

func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	img := image.NewYCbCr(image.Rect(0, 0, 24, 17), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	_ = jpeg.Encode(&buf, img, nil)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1<<20 {
			return
		}
		if !check(t, "fuzz", data) {
			checkRefused(t, "fuzz", data)
		}
	})
}

// TestMutationsMatchImageJPEG damages small corpus JPEGs at random (Huffman
// tables made over-subscribed, bytes changed, markers inserted, the file
// cut short) and checks that whatever image/jpeg still decodes, Decode
// decodes to the same pixels, and that what it refuses Decode refuses: the
// fast paths must fall back to image/jpeg's behaviour at the end of a
// segment and for tables that are not prefix codes.
func TestMutationsMatchImageJPEG(t *testing.T) {
	root := corpustest.Dir(t, "jpeg")
	var seeds [][]byte
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext != ".jpg" && ext != ".jpeg" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil && len(data) < 30000 {
			seeds = append(seeds, data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) == 0 {
		t.Skip("no small corpus JPEGs")
	}
	n := 5000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewPCG(3, 4))
	decoded := 0
	for range n {
		data := bytes.Clone(seeds[r.IntN(len(seeds))])
		for range 1 + r.IntN(3) {
			if len(data) < 2 {
				break
			}
			switch r.IntN(4) {
			case 0: // Move codes of a DHT to shorter lengths.
				if i := bytes.Index(data, []byte{0xff, 0xc4}); i >= 0 && i+21 < len(data) {
					x, y := r.IntN(16), r.IntN(16)
					if x > y {
						x, y = y, x
					}
					if x != y && data[i+5+y] > 0 {
						data[i+5+x]++
						data[i+5+y]--
					}
				}
			case 1:
				data[r.IntN(len(data))] = byte(r.IntN(256))
			case 2:
				i := r.IntN(len(data) - 1)
				data[i], data[i+1] = 0xff, []byte{0x00, 0xd0, 0xd1, 0xd9, 0xff}[r.IntN(5)]
			case 3:
				data = data[:r.IntN(len(data))]
			}
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width*cfg.Height > 1<<20 {
			continue
		}
		if check(t, "mutated", data) {
			decoded++
		} else {
			checkRefused(t, "mutated", data)
		}
	}
	t.Logf("%d of %d damaged JPEGs decoded by image/jpeg; the same pixels", decoded, n)
}
