// Package testimage generates deterministic photo-like images for tests,
// benchmarks and the ImageMagick comparison: smooth gradients, soft-edged
// shapes, fine texture and sensor-like noise, so that they compress like a
// photograph (a 24 MP one is well over 5 MB as a quality-90 JPEG).
package testimage

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
)

// Photo returns a w x h opaque photo-like image; the same seed gives the
// same pixels.
func Photo(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	type blob struct{ x, y, rad, cr, cg, cb float64 }
	blobs := make([]blob, 24)
	for i := range blobs {
		blobs[i] = blob{r.Float64() * float64(w), r.Float64() * float64(h), (0.05 + 0.2*r.Float64()) * float64(min(w, h)),
			r.Float64()*160 - 80, r.Float64()*160 - 80, r.Float64()*160 - 80}
	}
	fx, fy := 0.02+0.05*r.Float64(), 0.02+0.05*r.Float64()
	base := make([][3]float64, w)
	for y := range h {
		fyv := float64(y) / float64(h)
		for x := range w {
			fxv := float64(x) / float64(w)
			base[x] = [3]float64{60 + 120*fxv + 40*fyv, 90 + 80*fyv, 150 - 90*fxv + 30*math.Sin(6*fyv)}
		}
		for _, b := range blobs {
			dy := float64(y) - b.y
			if dy*dy > 1.3*b.rad*b.rad {
				continue
			}
			x0, x1 := max(0, int(b.x-1.2*b.rad)), min(w, int(b.x+1.2*b.rad)+1)
			for x := x0; x < x1; x++ {
				dx := float64(x) - b.x
				d := (dx*dx + dy*dy) / (b.rad * b.rad)
				if d < 1.3 {
					a := 1 / (1 + math.Exp((d-1)*25)) // soft edge
					base[x][0] += a * b.cr
					base[x][1] += a * b.cg
					base[x][2] += a * b.cb
				}
			}
		}
		row := img.Pix[y*img.Stride:]
		sy := 3 * math.Sin(float64(y)*fy)
		for x := range w {
			tex := 14 * math.Sin(float64(x)*fx+sy)
			n := r.NormFloat64() * 8
			c := base[x]
			row[4*x] = clamp(c[0] + tex + n + r.NormFloat64()*3)
			row[4*x+1] = clamp(c[1] + tex + n + r.NormFloat64()*3)
			row[4*x+2] = clamp(c[2] + tex + n + r.NormFloat64()*3)
			row[4*x+3] = 255
		}
	}
	return img
}

// Graphic returns a w x h image with few colours (a chart or a scan of a
// form) and, if alpha, a transparent border.
func Graphic(w, h int, colours int, alpha bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	pal := make([]color.NRGBA, colours)
	for i := range pal {
		pal[i] = color.NRGBA{uint8(37 * i), uint8(255 - 23*i), uint8(91 * i), 255}
	}
	for y := range h {
		for x := range w {
			c := pal[((x/37)+(y/53)*3+(x*y/4099))%colours]
			if alpha && (x < w/10 || y < h/10) {
				c.A = 0
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func clamp(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v + 0.5)
}
