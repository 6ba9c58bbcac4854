package downsample

import (
	"image"
	"image/draw"

	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
)

// orientPlane turns one plane of bpp bytes per pixel upright.
func orientPlane(src []byte, w, h, stride, bpp, o int) (dst []byte, dw, dh, dstride int) {
	dw, dh = w, h
	if orientation.Transposes(o) {
		dw, dh = h, w
	}
	dstride = dw * bpp
	dst = make([]byte, dstride*dh)
	for y := range dh {
		row := dst[y*dstride : (y+1)*dstride]
		for x := range dw {
			sx, sy := orientation.Src(o, x, y, w, h)
			s := sy*stride + sx*bpp
			copy(row[x*bpp:x*bpp+bpp], src[s:s+bpp])
		}
	}
	return dst, dw, dh, dstride
}

// orient returns img turned upright for EXIF orientation o. RGBA, NRGBA,
// Gray and YCbCr (except 4:1:1 and 4:1:0 under a transpose) are turned
// plane by plane without conversion; other types become *image.RGBA.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	switch m := img.(type) {
	case *image.RGBA:
		p, w, h, s := orientPlane(m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4, o)
		return &image.RGBA{Pix: p, Stride: s, Rect: image.Rect(0, 0, w, h)}
	case *image.NRGBA:
		p, w, h, s := orientPlane(m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 4, o)
		return &image.NRGBA{Pix: p, Stride: s, Rect: image.Rect(0, 0, w, h)}
	case *image.Gray:
		p, w, h, s := orientPlane(m.Pix, m.Rect.Dx(), m.Rect.Dy(), m.Stride, 1, o)
		return &image.Gray{Pix: p, Stride: s, Rect: image.Rect(0, 0, w, h)}
	case *image.YCbCr:
		if y, ok := orientYCbCr(m, o); ok {
			return y
		}
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	return orient(rgba, o)
}

func orientYCbCr(m *image.YCbCr, o int) (*image.YCbCr, bool) {
	if m.Rect.Min != (image.Point{}) {
		return nil, false
	}
	ratio, ok := orientation.Ratio(m.SubsampleRatio, o)
	if !ok {
		return nil, false
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := chromaSize(m.SubsampleRatio, w, h)
	y, dw, dh, ys := orientPlane(m.Y, w, h, m.YStride, 1, o)
	cb, _, _, cs := orientPlane(m.Cb, cw, ch, m.CStride, 1, o)
	cr, _, _, _ := orientPlane(m.Cr, cw, ch, m.CStride, 1, o)
	return &image.YCbCr{Y: y, Cb: cb, Cr: cr, YStride: ys, CStride: cs, SubsampleRatio: ratio, Rect: image.Rect(0, 0, dw, dh)}, true
}

// chromaSize is the size of a chroma plane of a w x h image (origin 0,0).
func chromaSize(r image.YCbCrSubsampleRatio, w, h int) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return (w + 1) / 2, h
	case image.YCbCrSubsampleRatio420:
		return (w + 1) / 2, (h + 1) / 2
	case image.YCbCrSubsampleRatio440:
		return w, (h + 1) / 2
	case image.YCbCrSubsampleRatio411:
		return (w + 3) / 4, h
	case image.YCbCrSubsampleRatio410:
		return (w + 3) / 4, (h + 1) / 2
	}
	return w, h
}
