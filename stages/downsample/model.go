package downsample

import (
	"context"
	"image"
	"image/draw"
	"math"

	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
)

// Sample mosaic geometry: grid x grid tiles of tile x tile pixels, taken
// evenly across the image (about 0.33 MP). tile is a multiple of 16, so
// tile edges fall on JPEG MCU boundaries and the mosaic compresses like
// the image it samples.
const (
	tile = 48
	grid = 12
	// jpegOverhead approximates the fixed bytes of an encoded JPEG
	// (markers, quantisation and Huffman tables).
	jpegOverhead = 620
)

// sizeModel predicts the encoded size of an image at a scale and a quality
// from encodes of a small mosaic of tiles sampled across it, resampled to
// that scale.
type sizeModel struct {
	src     image.Image
	w, h    int
	rep     *Report
	mosaics map[float64]image.Image
	sizes   map[[2]float64]float64
}

// copyYCbCr copies the part sr of src to dst at p. sr and p are aligned
// to 16 pixels, so chroma samples line up for every subsample ratio.
func copyYCbCr(dst *image.YCbCr, p image.Point, src *image.YCbCr, sr image.Rectangle) {
	for y := sr.Min.Y; y < sr.Max.Y; y++ {
		dy := p.Y + y - sr.Min.Y
		copy(dst.Y[dst.YOffset(p.X, dy):dst.YOffset(p.X, dy)+sr.Dx()], src.Y[src.YOffset(sr.Min.X, y):])
	}
	cw, ch := chromaSize(src.SubsampleRatio, sr.Dx(), sr.Dy())
	_, vs := chromaSize(src.SubsampleRatio, 1, 2)
	step := 2 / vs // rows of luma per chroma row: 1 or 2
	for cy := range ch {
		ys, yd := sr.Min.Y+cy*step, p.Y+cy*step
		so, do := src.COffset(sr.Min.X, ys), dst.COffset(p.X, yd)
		copy(dst.Cb[do:do+cw], src.Cb[so:])
		copy(dst.Cr[do:do+cw], src.Cr[so:])
	}
}

func newModel(src image.Image, rep *Report) *sizeModel {
	b := src.Bounds()
	return &sizeModel{src: src, w: b.Dx(), h: b.Dy(), rep: rep,
		mosaics: map[float64]image.Image{}, sizes: map[[2]float64]float64{}}
}

// mosaic returns the sample of the image at scale s. The error is ctx's.
func (m *sizeModel) mosaic(ctx context.Context, s float64) (image.Image, error) {
	if mo, ok := m.mosaics[s]; ok {
		return mo, nil
	}
	_, gray := m.src.(*image.Gray)
	newImg := func(r image.Rectangle) draw.Image {
		if gray {
			return image.NewGray(r)
		}
		return image.NewRGBA(r)
	}
	sw, sh := scaled(m.w, m.h, s)
	var mo draw.Image
	if int64(sw)*int64(sh) <= 2*tile*tile*grid*grid || m.w < tile*grid || m.h < tile*grid {
		// Small image: the sample is the whole (scaled) image.
		r, err := resize(ctx, m.src, s, nil)
		if err != nil {
			return nil, err
		}
		mo = toDrawImage(r)
	} else {
		side := int(math.Ceil(tile / s))
		b := m.src.Bounds()
		var ycc *image.YCbCr
		if y, ok := m.src.(*image.YCbCr); ok && side == tile {
			// Unscaled YCbCr (a decoded JPEG): copy the planes, so that the
			// mosaic's blocks are exactly the image's blocks and re-encode
			// like them (a re-quantised JPEG compresses very differently
			// from the same pixels passed through RGB).
			ycc = image.NewYCbCr(image.Rect(0, 0, tile*grid, tile*grid), y.SubsampleRatio)
			mo = nil
		} else {
			mo = newImg(image.Rect(0, 0, tile*grid, tile*grid))
		}
		for j := range grid {
			for i := range grid {
				cx := b.Min.X + int((float64(i)+0.5)/grid*float64(m.w))
				cy := b.Min.Y + int((float64(j)+0.5)/grid*float64(m.h))
				x0 := min(max(cx-side/2, b.Min.X), b.Max.X-side)
				y0 := min(max(cy-side/2, b.Min.Y), b.Max.Y-side)
				// Align to the 16-pixel MCU grid of the full image.
				x0 -= (x0 - b.Min.X) % 16
				y0 -= (y0 - b.Min.Y) % 16
				sr := image.Rect(x0, y0, x0+side, y0+side)
				dr := image.Rect(i*tile, j*tile, (i+1)*tile, (j+1)*tile)
				if ycc != nil {
					copyYCbCr(ycc, dr.Min, m.src.(*image.YCbCr), sr)
					continue
				}
				var t image.Image = subImage(m.src, sr)
				if side != tile {
					var err error
					if t, err = resize(ctx, t, float64(tile)/float64(side), nil); err != nil {
						return nil, err
					}
				}
				draw.Draw(mo, dr, t, t.Bounds().Min, draw.Src)
			}
		}
		if ycc != nil {
			m.mosaics[s] = ycc
			return ycc, nil
		}
	}
	m.mosaics[s] = mo
	return mo, nil
}

// estimate predicts the full encoded size at scale s and quality q/10;
// +Inf when ctx is cancelled.
func (m *sizeModel) estimate(ctx context.Context, s float64, q int) float64 {
	key := [2]float64{s, float64(q)}
	if v, ok := m.sizes[key]; ok {
		return v
	}
	mo, err := m.mosaic(ctx, s)
	if err != nil {
		return math.Inf(1)
	}
	out, err := encode.EncodeImage(ctx, mo, float64(q)/10)
	m.rep.SampleEncodes++
	if err != nil {
		return math.Inf(1)
	}
	mb := mo.Bounds()
	sw, sh := scaled(m.w, m.h, s)
	perPixel := float64(max(len(out)-jpegOverhead, 1)) / float64(mb.Dx()*mb.Dy())
	v := perPixel*float64(sw)*float64(sh) + jpegOverhead
	m.sizes[key] = v
	return v
}

// plan chooses the largest scale (down to sMin) and then the highest
// quality (in tenths) in [minQ, maxQ] whose predicted size is at most goal; ok is
// false when even (sMin, minQ) is predicted over.
func (m *sizeModel) plan(ctx context.Context, goal, sMin float64, minQ, maxQ int) (s float64, q int, ok bool) {
	if q, ok := searchQuality(func(q int) float64 { return m.estimate(ctx, 1, q) }, goal, minQ, maxQ); ok {
		return 1, q, true
	}
	// Scales are multiples of 1/1000 (so estimates can be cached), never
	// under sMin, so the long edge never falls under the floor.
	lowest := math.Min(1, math.Ceil(sMin*1000)/1000)
	// s = 1 is known not to fit at minQ: search below it.
	clamp := func(v float64) float64 { return math.Min(0.999, math.Max(lowest, math.Round(v*1000)/1000)) }
	if lowest >= 1 {
		return 1, minQ, false
	}
	// Size goes as s^k: start with k = 2 (pixels) and correct k by secant
	// on log(size) against log(s).
	s0, e0 := 1.0, m.estimate(ctx, 1, minQ)
	s = clamp(math.Sqrt(goal/e0) * 0.99)
	fits := false
	for range 5 {
		e := m.estimate(ctx, s, minQ)
		fits = e <= goal
		if fits && e >= 0.93*goal {
			break
		}
		if !fits && s == lowest {
			return lowest, minQ, false
		}
		k := 2.0
		if s != s0 && e != e0 {
			if kk := math.Log(e0/e) / math.Log(s0/s); kk >= 1 && kk <= 3 {
				k = kk
			}
		}
		s0, e0 = s, e
		next := clamp(s * math.Pow(goal*0.99/e, 1/k))
		if next == s {
			if fits {
				break
			}
			next = clamp(s - 0.005)
		}
		s = next
	}
	fits = m.estimate(ctx, s, minQ) <= goal // s may have moved since the last estimate
	for !fits {
		if s == lowest {
			return lowest, minQ, false
		}
		s = clamp(math.Min(s*0.97, s-0.001)) // at least one step of the 1/1000 grid
		fits = m.estimate(ctx, s, minQ) <= goal
	}
	q, _ = searchQuality(func(q int) float64 { return m.estimate(ctx, s, q) }, goal, minQ, maxQ)
	return s, q, true
}

// searchQuality returns the highest q in [lo, hi] whose predicted size
// (estimate) is at most goal, or lo and false when even lo is over. It
// solves log(size) = log(goal) by regula falsi with the Illinois
// correction: log(size) is close to linear in quality, and the correction
// keeps its curvature from pinning one end of the bracket.
func searchQuality(estimate func(q int) float64, goal float64, lo, hi int) (int, bool) {
	fHi := math.Log(estimate(hi) / goal)
	if fHi <= 0 {
		return hi, true
	}
	fLo := math.Log(estimate(lo) / goal)
	if fLo > 0 {
		return lo, false
	}
	side := 0
	for tries := 0; hi-lo > 1 && tries < 8; tries++ {
		q := lo + int(float64(hi-lo)*-fLo/(fHi-fLo))
		q = min(max(q, lo+1), hi-1)
		f := math.Log(estimate(q) / goal)
		if f <= 0 {
			lo, fLo = q, f
			if side < 0 {
				fHi /= 2
			}
			side = -1
		} else {
			hi, fHi = q, f
			if side > 0 {
				fLo /= 2
			}
			side = 1
		}
	}
	return lo, true
}

// subImage returns the part r of img, sharing its pixels where the type
// allows (the decoders' types all do).
func subImage(img image.Image, r image.Rectangle) image.Image {
	if s, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		return s.SubImage(r)
	}
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Rect, img, r.Min, draw.Src)
	return out
}

// toDrawImage returns img as a draw.Image (RGBA or Gray).
func toDrawImage(img image.Image) draw.Image {
	switch m := img.(type) {
	case *image.RGBA:
		return m
	case *image.Gray:
		return m
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, img, b.Min, draw.Src)
	return out
}
