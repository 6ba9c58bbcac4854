package downsample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/corpustest"
	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/dct"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/internal/testimage"
	"github.com/gpdoc/gpdoc/pipeline"
	"github.com/gpdoc/gpdoc/stages/sanitise"
)

// turnedReference is img turned upright for EXIF orientation o with
// imaging's transforms (independent of this package's orient).
func turnedReference(img image.Image, o int) *image.NRGBA {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // 270 degrees anticlockwise: 90 clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return imaging.Clone(img)
}

// pixelDiff is the mean absolute difference of a and b over R, G and B
// (0 to 255), or +Inf when their sizes differ.
func pixelDiff(a, b *image.NRGBA) float64 {
	if a.Rect.Size() != b.Rect.Size() {
		return math.Inf(1)
	}
	var sum, n float64
	for y := range a.Rect.Dy() {
		ra := a.Pix[y*a.Stride : y*a.Stride+4*a.Rect.Dx()]
		rb := b.Pix[y*b.Stride : y*b.Stride+4*b.Rect.Dx()]
		for i := 0; i < len(ra); i += 4 {
			for c := range 3 {
				sum += math.Abs(float64(ra[i+c]) - float64(rb[i+c]))
			}
			n += 3
		}
	}
	return sum / n
}

// checkUpright checks that out is upright with orientation 1 (no EXIF
// orientation other than 1) and that its pixels are src's image/jpeg
// decode turned for orientation o, within maxDiff on average; every other
// orientation's reference of the same size must be at least three times
// as far off, so that a wrong turn cannot pass.
func checkUpright(t *testing.T, src, out []byte, o int, maxDiff float64) {
	t.Helper()
	info, err := segment.Parse(out)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	if info.Orientation > 1 || Orientation(out) != 1 {
		t.Fatalf("output has EXIF orientation %d", info.Orientation)
	}
	srcImg, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	outImg, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	got := imaging.Clone(outImg)
	ref := turnedReference(srcImg, max(o, 1))
	if got.Rect.Size() != ref.Rect.Size() {
		t.Fatalf("output is %v, the source turned upright is %v", got.Rect.Size(), ref.Rect.Size())
	}
	d := pixelDiff(ref, got)
	t.Logf("mean difference %.3f", d)
	if d > maxDiff {
		t.Errorf("mean difference to the source turned for orientation %d: %.2f, want at most %.2f", o, d, maxDiff)
	}
	for wrong := 1; wrong <= 8; wrong++ {
		if wrong == max(o, 1) {
			continue
		}
		if dw := pixelDiff(turnedReference(srcImg, wrong), got); dw < 3*d || dw < 3 {
			t.Errorf("output is as close to orientation %d's turn (%.2f) as to %d's (%.2f)", wrong, dw, o, d)
		}
	}
}

// contentChange returns the downsample stage's change of
// attachments[0].content, or nil.
func contentChange(doc *pipeline.Document) *pipeline.Change {
	for _, c := range doc.Changes() {
		if c.Name == "attachments[0].content" && c.Stage == StageName {
			return &c
		}
	}
	return nil
}

// TestStageTurnsCorpusUpright runs every EXIF orientation (0 to 8) of the
// corpus's Landscape and Portrait photos through the stage, under the
// route's limit and over a small one (conneqt.Route.WithAttachmentLimit):
// every output is upright with orientation 1 and matches the source's
// decode turned for its orientation. The corpus photos are 1800x1200 (or
// 1200x1800) at 4:2:0: 1200 is a whole number of 16x16 MCUs, 1800 is not,
// so under the limit they are turned losslessly where the orientation
// mirrors no axis of 1800 pixels (wantLossless), and are re-encoded at
// their own quality otherwise.
func TestStageTurnsCorpusUpright(t *testing.T) {
	wantLossless := map[string]bool{
		"Landscape_4": true, // stored 1800x1200, mirrored top to bottom
		"Landscape_5": true, // transposed: no mirror
		"Landscape_8": true, // stored 1200x1800, left to right mirrored
		"Portrait_2":  true, // stored 1200x1800, left to right mirrored
		"Portrait_5":  true,
		"Portrait_6":  true, // stored 1800x1200, top to bottom mirrored
	}
	dir := corpustest.Dir(t, "jpeg", "exif-orientation")
	s, err := New(Options{MinLongEdge: 600})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{"Landscape", "Portrait"}
	if raceEnabled || testing.Short() {
		kinds = kinds[:1] // Landscape_0..8 already cover every orientation
	}
	const small = 150_000 // well under the ~250-350 KB originals
	for _, kind := range kinds {
		for o := 0; o <= 8; o++ {
			for _, over := range []bool{false, true} {
				name := fmt.Sprintf("%s_%d/under", kind, o)
				if over {
					name = fmt.Sprintf("%s_%d/over", kind, o)
				}
				t.Run(name, func(t *testing.T) {
					src, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%s_%d.jpg", kind, o)))
					if err != nil {
						t.Fatal(err)
					}
					route := conneqt.MustRoute(conneqt.Standard)
					if over {
						if route, err = route.WithAttachmentLimit(small, conneqt.LimitDecoded); err != nil {
							t.Fatal(err)
						}
					}
					att := &conneqt.Attachment{FileName: "p.jpg", MIMEType: conneqt.MIMEJPEG, Data: src}
					doc := &pipeline.Document{Route: route, Message: &conneqt.Message{Attachments: []*conneqt.Attachment{att}}}
					if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
						t.Fatal(err)
					}
					c := contentChange(doc)
					switch {
					case !over && o <= 1:
						if c != nil || !bytes.Equal(att.Data, src) {
							t.Fatalf("an upright photo under the limit was changed: %+v", c)
						}
					case !over:
						lossless := wantLossless[fmt.Sprintf("%s_%d", kind, o)]
						if c == nil || c.Action != "turned upright" || !strings.Contains(c.Detail, fmt.Sprintf("EXIF orientation %d", o)) ||
							strings.Contains(c.Detail, "not lossless") == lossless || c.Data["lossless"] != lossless || c.Data["onlyTurned"] != true {
							t.Fatalf("change %+v: want 'turned upright' naming orientation %d, lossless %v", c, o, lossless)
						}
						if lossless {
							checkUpright(t, src, att.Data, o, 0.5)
							return
						}
						if q := c.Data["quality"].(float64); q < float64(SourceQuality(src)) {
							t.Errorf("re-encoded at quality %g, under the source's %d", q, SourceQuality(src))
						}
					default:
						if c == nil || c.Action != "downsampled" || int64(len(att.Data)) > small {
							t.Fatalf("change %+v, %d bytes: want a fit under %d", c, len(att.Data), small)
						}
						if o > 1 && !strings.Contains(c.Detail, fmt.Sprintf("turned upright (EXIF orientation %d)", o)) {
							t.Errorf("detail %q does not say it was turned", c.Detail)
						}
					}
					if o <= 1 && !over {
						return
					}
					if over {
						// Fitted (smaller), so compare at the output's size.
						checkUprightScaled(t, src, att.Data, o)
						return
					}
					checkUpright(t, src, att.Data, o, 3)
				})
			}
		}
	}
}

// checkUprightScaled is checkUpright for a fitted output, which may be
// smaller than the source: the reference is scaled to its size first.
func checkUprightScaled(t *testing.T, src, out []byte, o int) {
	t.Helper()
	if info, err := segment.Parse(out); err != nil || info.Orientation > 1 {
		t.Fatalf("output: orientation %d, %v", info.Orientation, err)
	}
	srcImg, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	outImg, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got := imaging.Clone(outImg)
	size := got.Rect.Size()
	ref := imaging.Resize(turnedReference(srcImg, max(o, 1)), size.X, size.Y, imaging.Linear)
	d := pixelDiff(ref, got)
	t.Logf("mean difference %.3f", d)
	if d > 6 {
		t.Errorf("mean difference to the source turned for orientation %d: %.2f", o, d)
	}
	for wrong := 1; wrong <= 8; wrong++ {
		w := turnedReference(srcImg, wrong)
		if wrong == max(o, 1) || (w.Rect.Dx() > w.Rect.Dy()) != (size.X > size.Y) {
			continue
		}
		if dw := pixelDiff(imaging.Resize(w, size.X, size.Y, imaging.Linear), got); dw < 3*d || dw < 3 {
			t.Errorf("output is as close to orientation %d's turn (%.2f) as to %d's (%.2f)", wrong, dw, o, d)
		}
	}
}

// wholeMCUPhoto returns the corpus's Landscape_1 photo cropped to w x h
// and saved by image/jpeg at quality 90 (4:2:0), with no EXIF.
func wholeMCUPhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpustest.Dir(t, "jpeg", "exif-orientation"), "Landscape_1.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, imaging.Crop(img, image.Rect(100, 50, 100+w, 50+h)), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTurnUprightLossless: a photo that is a whole number of MCUs
// (1024x768 at 4:2:0) is turned in the DCT domain for every orientation,
// and so is a 1001x768 one where the orientation mirrors no axis of 1001
// pixels: its pixels are the source's decode turned, up to the inverse
// DCT's rounding, and its quantisation tables are the source's, moved
// with their coefficients (every step kept).
func TestTurnUprightLossless(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	type tc struct{ w, h, o int }
	var cases []tc
	for o := 2; o <= 8; o++ {
		cases = append(cases, tc{1024, 768, o})
	}
	cases = append(cases, tc{1001, 768, 4}, tc{1001, 768, 5}, tc{1001, 768, 6}, tc{1024, 761, 2}, tc{1024, 761, 8})
	for _, tc := range cases {
		o := tc.o
		t.Run(fmt.Sprintf("%dx%d_%d", tc.w, tc.h, o), func(t *testing.T) {
			base := wholeMCUPhoto(t, tc.w, tc.h)
			baseCoef, err := coef.Decode(base)
			if err != nil {
				t.Fatal(err)
			}
			src := withOrientation(t, base, o, o%2 == 0)
			att := &conneqt.Attachment{FileName: "p.jpg", MIMEType: conneqt.MIMEJPEG, Data: src}
			doc := newDoc(conneqt.Standard, att)
			if err := s.ProcessAttachment(context.Background(), doc, 0); err != nil {
				t.Fatal(err)
			}
			c := contentChange(doc)
			if c == nil || c.Action != "turned upright" || c.Data["lossless"] != true || c.Data["transcoded"] != true ||
				!strings.Contains(c.Detail, "losslessly") || !strings.Contains(c.Detail, fmt.Sprintf("EXIF orientation %d", o)) ||
				c.Before != fmt.Sprintf("EXIF orientation %d", o) || c.After != "orientation 1" {
				t.Fatalf("change %+v: want a lossless 'turned upright'", c)
			}
			checkUpright(t, src, att.Data, o, 0.5)
			// Every step kept: the output's tables are the source's,
			// transposed when the orientation transposes.
			outCoef, err := coef.Decode(att.Data)
			if err != nil {
				t.Fatal(err)
			}
			for i, oc := range outCoef.Components {
				for k := range 64 {
					n := int(dct.Unzig[k])
					u, v := n%8, n/8
					if o >= 5 {
						u, v = v, u
					}
					if want := baseCoef.Components[i].Quant[zigzagOf(v*8+u)]; oc.Quant[k] != want {
						t.Fatalf("component %d step %d is %d, the source's is %d", i, k, oc.Quant[k], want)
					}
				}
			}
		})
	}
}

// TestTurnUprightReencodes: an odd-sized photo (1001x667, not a whole
// number of MCUs) with orientation 6 is re-encoded from its upright pixels
// at no less than its own quality, and the change says why it is not
// lossless.
func TestTurnUprightReencodes(t *testing.T) {
	src := withOrientation(t, wholeMCUPhoto(t, 1001, 667), 6, false)
	f, err := NewFitter(Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, rep, err := f.FitJPEG(context.Background(), src, DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OnlyTurned || rep.Lossless || rep.Transcoded || !strings.Contains(rep.LossyReason, "not a whole number") ||
		rep.Quality < float64(SourceQuality(src)) || rep.FinalWidth != 667 || rep.FinalHeight != 1001 || rep.Orientation != 6 {
		t.Fatalf("report %+v: want turned only, re-encoded at quality >= %d, 667x1001", rep, SourceQuality(src))
	}
	checkUpright(t, src, out, 6, 3)
	if d := describe(rep, DefaultMaxBytes); !strings.Contains(d, "not lossless") || !strings.Contains(d, "turned 90 degrees clockwise") {
		t.Errorf("describe = %q", d)
	}
}

// TestTurnedAndOverFittedOnce: a turned photo over the limit is fitted
// once, from the source, and comes out upright; it is not turned first.
func TestTurnedAndOverFittedOnce(t *testing.T) {
	base := wholeMCUPhoto(t, 1024, 768)
	src := withOrientation(t, base, 6, false)
	limit := int64(len(src)) * 2 / 3
	out, rep, err := FitJPEG(context.Background(), src, Options{MaxBytes: limit, MinLongEdge: 600})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(out)) > limit || rep.OnlyTurned || rep.Lossless || rep.Orientation != 6 {
		t.Fatalf("%d bytes, report %+v: want a fit under %d", len(out), rep, limit)
	}
	for _, step := range rep.Steps {
		if strings.Contains(step, "every quantisation step kept") || strings.Contains(step, "re-encoded at quality") {
			t.Errorf("turned before fitting: %q", step)
		}
	}
	checkUprightScaled(t, src, out, 6)
}

// TestTurnUprightOverLimitFallsBack: when the photo fits but its upright
// encoding would not, turnUpright says so (ok false, no lossless claim),
// and FitJPEG fits the source instead.
func TestTurnUprightOverLimitFallsBack(t *testing.T) {
	src := withOrientation(t, wholeMCUPhoto(t, 1024, 768), 3, false)
	f, err := NewFitter(Options{MinLongEdge: 600})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := coef.Decode(src)
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	out, ok, err := f.turnUpright(context.Background(), src, ci, 3, 1000, &rep)
	if err != nil || ok || out != nil || rep.Lossless || rep.Transcoded || rep.OnlyTurned {
		t.Fatalf("turnUpright under 1000 bytes: %d bytes, ok %v, %v, report %+v", len(out), ok, err, rep)
	}
	// The coefficients are intact for the fit that follows.
	again, _, err := f.turnUpright(context.Background(), src, ci, 3, DefaultMaxBytes, &Report{})
	if err != nil || len(again) == 0 {
		t.Fatalf("second turn: %v", err)
	}
}

// TestUprightPhotoUnderLimitUntouched: no orientation, or orientation 1,
// under the limit: the bytes are returned as they are.
func TestUprightPhotoUnderLimitUntouched(t *testing.T) {
	base := wholeMCUPhoto(t, 256, 128)
	for _, src := range [][]byte{base, withOrientation(t, base, 1, true), withOrientation(t, base, 9, false)} {
		out, rep, err := FitJPEG(context.Background(), src, Options{})
		if err != nil || !bytes.Equal(out, src) || rep.Encodes != 0 || rep.OnlyTurned {
			t.Errorf("changed: err %v, report %+v", err, rep)
		}
	}
}

// FuzzTurnUpright turns generated JPEGs of any small size, grey or colour,
// at any quality, stored with any orientation 2 to 8: the output always
// decodes, has orientation 1, the upright size, and the source's pixels
// turned (exactly up to rounding when lossless).
func FuzzTurnUpright(f *testing.F) {
	f.Add(uint16(64), uint16(48), uint8(6), false, uint8(90))
	f.Add(uint16(33), uint16(17), uint8(7), false, uint8(75))
	f.Add(uint16(16), uint16(9), uint8(5), true, uint8(50))
	f.Add(uint16(1), uint16(1), uint8(8), false, uint8(100))
	fit, err := NewFitter(Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, w, h uint16, o uint8, gray bool, q uint8) {
		w, h = w%96+1, h%96+1
		orient := int(o%7) + 2
		var img image.Image = testimage.Photo(int(w), int(h), uint64(w)*131+uint64(h))
		if gray {
			img = imaging.Grayscale(img)
			g := image.NewGray(img.Bounds())
			for i := range g.Pix {
				g.Pix[i] = img.(*image.NRGBA).Pix[4*i]
			}
			img = g
		}
		var b bytes.Buffer
		if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: int(q%100) + 1}); err != nil {
			t.Fatal(err)
		}
		src := withOrientation(t, b.Bytes(), orient, q%2 == 0)
		out, rep, err := fit.FitJPEG(context.Background(), src, DefaultMaxBytes)
		if err != nil {
			t.Fatalf("%dx%d orientation %d: %v", w, h, orient, err)
		}
		if !rep.OnlyTurned {
			t.Fatalf("report %+v: want turned only", rep)
		}
		if Orientation(out) != 1 {
			t.Fatalf("output orientation %d", Orientation(out))
		}
		srcImg, err := jpeg.Decode(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		outImg, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("output does not decode: %v", err)
		}
		ref, got := turnedReference(srcImg, orient), imaging.Clone(outImg)
		if got.Rect.Size() != ref.Rect.Size() {
			t.Fatalf("output %v, want %v", got.Rect.Size(), ref.Rect.Size())
		}
		// Lossless: only the inverse DCT's rounding. Re-encoded: no worse
		// than image/jpeg's own encode of the turned reference at the same
		// quality (the generation loss of a second encode, which for tiny
		// saturated images is mostly 4:2:0 chroma on a shifted grid).
		limit := 1.0
		if !rep.Lossless {
			var rb bytes.Buffer
			if err := jpeg.Encode(&rb, ref, &jpeg.Options{Quality: int(math.Round(rep.Quality))}); err != nil {
				t.Fatal(err)
			}
			again, err := jpeg.Decode(&rb)
			if err != nil {
				t.Fatal(err)
			}
			limit = 1.5*pixelDiff(ref, imaging.Clone(again)) + 2
		}
		if d := pixelDiff(ref, got); d > limit {
			t.Errorf("%dx%d orientation %d lossless %v quality %d: mean difference %.2f, want at most %.2f", w, h, orient, rep.Lossless, q%100+1, d, limit)
		}
	})
}

// TestTurnKeepsICC: a photo that is only turned keeps its ICC profile
// segments, byte for byte, on both the lossless and the re-encode path.
func TestTurnKeepsICC(t *testing.T) {
	payload := append([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte("profile!"), 40)...)
	icc := []byte{0xFF, segment.APP2, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	icc = append(icc, payload...)
	for _, tc := range []struct {
		w, h     int
		lossless bool
	}{{512, 384, true}, {511, 383, false}} {
		base := wholeMCUPhoto(t, tc.w, tc.h)
		withProfile := append(append(bytes.Clone(base[:2]), icc...), base[2:]...)
		src := withOrientation(t, withProfile, 6, false)
		out, rep, err := FitJPEG(context.Background(), src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Lossless != tc.lossless || !rep.OnlyTurned {
			t.Fatalf("%dx%d: report %+v, want lossless %v", tc.w, tc.h, rep, tc.lossless)
		}
		if !bytes.Contains(out, icc) || Orientation(out) != 1 {
			t.Errorf("%dx%d: the ICC profile was not kept, or orientation %d", tc.w, tc.h, Orientation(out))
		}
		if int64(len(out)) != rep.FinalBytes {
			t.Errorf("report says %d bytes, output is %d", rep.FinalBytes, len(out))
		}
		checkUpright(t, src, out, 6, 3)
	}
}

// TestSanitiseThenDownsampleUpright runs the two stages as the pipeline
// does on a corpus photo with a full EXIF block and orientation 6:
// sanitise keeps only the orientation, downsample turns the pixels and
// drops it, so what leaves has no EXIF at all and is upright.
func TestSanitiseThenDownsampleUpright(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(corpustest.Dir(t, "jpeg", "exif-orientation"), "Landscape_6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	san, err := sanitise.New(sanitise.Options{})
	if err != nil {
		t.Fatal(err)
	}
	down, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	att := &conneqt.Attachment{FileName: "wound.jpg", MIMEType: conneqt.MIMEJPEG, Data: src}
	doc := newDoc(conneqt.Standard, att)
	r := &pipeline.Runner{Stages: pipeline.Pipeline{san, down}}
	if err := r.Process(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
	if err := segment.Header(att.Data, func(s segment.Segment) bool {
		if s.Marker == segment.APP1 {
			t.Errorf("output has an APP1 segment: %q", s.Data[:min(len(s.Data), 6)])
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, c := range doc.Changes() {
		if c.Name == "attachments[0].content" {
			actions = append(actions, c.Stage+": "+c.Action)
		}
	}
	if strings.Join(actions, ", ") != "sanitise: removed metadata, downsample: turned upright" {
		t.Errorf("changes %q", actions)
	}
	checkUpright(t, src, att.Data, 6, 3)
}

// zigzagOf is the zig-zag index of natural index n (the inverse of
// dct.Unzig).
func zigzagOf(n int) int {
	for k, u := range dct.Unzig {
		if int(u) == n {
			return k
		}
	}
	return -1
}

// TestUprightPixelsOddChroma: a 4:2:0 photo of odd width, mirrored left
// to right (orientation 2), has its last column's colour in its first
// column once upright, on the one path both the upright re-encode and the
// fit take (uprightPixels): turning the chroma plane on its own would put
// the lone last chroma sample over two columns and shift the colour.
func TestUprightPixelsOddChroma(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 33, 32))
	for y := range 32 {
		for x := range 33 {
			c := color.RGBA{0, 0, 230, 255} // blue
			if x == 32 {
				c = color.RGBA{230, 0, 0, 255} // the last column red
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	ci, err := coef.Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	up, err := uprightPixels(context.Background(), b.Bytes(), ci, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []int{0, 1, 31, 32} {
		r, _, bl, _ := up.At(up.Bounds().Min.X+x, 16).RGBA()
		red := r>>8 > 150 && bl>>8 < 100
		if red != (x == 0) {
			t.Errorf("column %d: r %d b %d; want red only in column 0", x, r>>8, bl>>8)
		}
	}
}

// TestFitKeepsICC: a photo fitted under the limit keeps its ICC profile,
// byte for byte, on the transcode path and on the pixel path (scaled),
// sideways or not, and the profile counts towards the limit; one of a
// tenth of the limit or more is dropped.
func TestFitKeepsICC(t *testing.T) {
	icc := func(n int) []byte {
		payload := append([]byte("ICC_PROFILE\x00\x01\x01"), bytes.Repeat([]byte("p"), n)...)
		return append([]byte{0xFF, segment.APP2, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	}
	base := wholeMCUPhoto(t, 512, 384)
	for _, tc := range []struct {
		name        string
		icc         []byte
		orientation int
		limit       int64
		transcoded  bool
		kept        bool
	}{
		{"re-quantised", icc(1000), 0, int64(len(base)) * 3 / 4, true, true},
		{"re-quantised, sideways", icc(1000), 6, int64(len(base)) * 3 / 4, true, true},
		{"scaled", icc(500), 0, 8_000, false, true},
		{"profile too large for the limit", icc(3000), 0, 20_000, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := append(append(bytes.Clone(base[:2]), tc.icc...), base[2:]...)
			if tc.orientation != 0 {
				src = withOrientation(t, src, tc.orientation, false)
			}
			out, rep, err := FitJPEG(context.Background(), src, Options{MaxBytes: tc.limit, MinLongEdge: 128})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Transcoded != tc.transcoded {
				t.Errorf("transcoded %v, want %v (%v)", rep.Transcoded, tc.transcoded, rep.Steps)
			}
			if got := bytes.Contains(out, tc.icc); got != tc.kept {
				t.Errorf("ICC profile kept %v, want %v", got, tc.kept)
			}
			if int64(len(out)) > tc.limit || int64(len(out)) != rep.FinalBytes {
				t.Errorf("%d bytes, report says %d, limit %d", len(out), rep.FinalBytes, tc.limit)
			}
			if _, err := jpeg.Decode(bytes.NewReader(out)); err != nil {
				t.Fatal(err)
			}
		})
	}
	// What cannot fit is told against the caller's limit.
	src := append(append(bytes.Clone(base[:2]), icc(200)...), base[2:]...)
	_, _, err := FitJPEG(context.Background(), src, Options{MaxBytes: 2500, MinLongEdge: 256})
	var fe *FitError
	if !errors.As(err, &fe) || !errors.Is(err, ErrCannotFit) || fe.Limit != 2500 || !strings.Contains(fe.Reason, "less its 218-byte ICC profile") {
		t.Errorf("err = %v (%+v), want ErrCannotFit against the limit of 2500 bytes, naming the profile", err, fe)
	}
}
