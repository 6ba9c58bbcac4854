package downsample

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
)

// PNGMode says what FitPNG may produce.
type PNGMode int

const (
	// PNGLosslessThenJPEG keeps a PNG if lossless re-encoding fits, else
	// converts to JPEG (the route accepts both).
	PNGLosslessThenJPEG PNGMode = iota
	// PNGLosslessOnly never converts (the route does not accept JPEG).
	PNGLosslessOnly
	// PNGToJPEG always converts to JPEG (the route does not accept PNG).
	PNGToJPEG
)

// FitPNG fits a PNG under opts.MaxBytes with a one-off Fitter. See
// [Fitter.FitPNG].
func FitPNG(ctx context.Context, data []byte, mode PNGMode, opts Options) ([]byte, Report, error) {
	f, err := NewFitter(opts)
	if err != nil {
		return nil, Report{}, err
	}
	return f.FitPNG(ctx, data, f.opts.MaxBytes, mode)
}

// FitPNG brings a PNG under maxBytes. Lossless options come first:
// re-encoding with best compression, and as a palette image when it has at
// most 256 colours. If that is not enough (or mode is PNGToJPEG) it is
// converted to JPEG with FitJPEG's search; transparent pixels are then
// flattened on white and Report.Flattened says so. Report.OutputMIME tells
// which format came out. An image that already fits is returned unchanged
// unless mode is PNGToJPEG.
func (f *Fitter) FitPNG(ctx context.Context, data []byte, maxBytes int64, mode PNGMode) (out []byte, rep Report, err error) {
	rep = Report{InputMIME: "image/png", OutputMIME: "image/png", OriginalBytes: int64(len(data)), FinalBytes: int64(len(data))}
	if int64(len(data)) <= maxBytes && mode != PNGToJPEG {
		return data, rep, nil
	}
	cfg, err := f.checkConfig(data, "PNG image")
	if err != nil {
		return nil, rep, err
	}
	rep.OriginalWidth, rep.OriginalHeight = cfg.Width, cfg.Height
	rep.FinalWidth, rep.FinalHeight = cfg.Width, cfg.Height
	release, err := f.acquireImage(ctx, data)
	if err != nil {
		return nil, rep, err
	}
	defer release()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, rep, undecodable("PNG image", err)
	}
	rep.step("decoded")

	smallest := int64(len(data))
	if mode != PNGToJPEG {
		best, err := f.lossless(ctx, img, maxBytes, &rep)
		if err != nil {
			return nil, rep, err
		}
		if best != nil {
			smallest = min(smallest, int64(len(best)))
		}
		if best != nil && int64(len(best)) <= maxBytes {
			rep.FinalBytes = int64(len(best))
			return best, rep, nil
		}
		if mode == PNGLosslessOnly {
			return nil, rep, cannotFit(maxBytes, smallest,
				"the PNG cannot fit under %d bytes losslessly (smallest %d bytes) and the route does not accept JPEG", maxBytes, smallest)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, rep, err
	}
	flat, flattened := flatten(img)
	img = nil
	if flattened {
		rep.Flattened = true
		rep.step("flattened transparency on white")
	}
	rep.OutputMIME = "image/jpeg"
	out, err = f.fitImage(ctx, flat, 1, maxBytes, f.opts.MaxQuality, &rep)
	return out, rep, err
}

// lossless tries best-compression and palette re-encodes; nil if neither
// could be made or a truecolour re-encode is predicted (from the sample
// mosaic) to stay well over maxBytes: a photo saved as PNG rarely shrinks
// much, and a full best-compression encode of it costs seconds.
func (f *Fitter) lossless(ctx context.Context, img image.Image, maxBytes int64, rep *Report) ([]byte, error) {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	var best []byte
	try := func(m image.Image, what string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var b bytes.Buffer
		if err := enc.Encode(&b, m); err != nil {
			return fmt.Errorf("encode PNG: %w", err)
		}
		rep.Encodes++
		rep.step(fmt.Sprintf("%s: %d bytes", what, b.Len()))
		if best == nil || b.Len() < len(best) {
			best = b.Bytes()
		}
		return nil
	}
	if p := toPaletted(img); p != nil {
		if err := try(p, fmt.Sprintf("reduced to a %d-colour palette", len(p.Palette))); err != nil {
			return nil, err
		}
		return best, nil // a palette encode is never larger than a truecolour one
	}
	if est := predictPNG(ctx, img, rep); est > 1.15*float64(maxBytes) {
		rep.step(fmt.Sprintf("lossless re-encode predicted at %.0f bytes: skipped", est))
		return nil, nil
	}
	if err := try(img, "re-encoded with best compression"); err != nil {
		return nil, err
	}
	return best, nil
}

// toPaletted returns img as a palette image if it has at most 256 colours
// and 8-bit samples (a palette then loses nothing), else nil.
func toPaletted(img image.Image) *image.Paletted {
	if p, ok := img.(*image.Paletted); ok {
		return p
	}
	var pix []uint8
	var stride int
	b := img.Bounds()
	switch m := img.(type) {
	case *image.NRGBA:
		pix, stride = m.Pix, m.Stride
	case *image.RGBA:
		// Premultiplied: exact as a palette of color.RGBA.
		pix, stride = m.Pix, m.Stride
	default:
		return nil
	}
	index := make(map[uint32]uint8, 256)
	var pal color.Palette
	out := image.NewPaletted(b, nil)
	last, lastIdx := uint32(0), uint8(0)
	have := false
	for y := 0; y < b.Dy(); y++ {
		row := pix[y*stride : y*stride+4*b.Dx()]
		orow := out.Pix[y*out.Stride:]
		for x := 0; x < b.Dx(); x++ {
			c := uint32(row[4*x])<<24 | uint32(row[4*x+1])<<16 | uint32(row[4*x+2])<<8 | uint32(row[4*x+3])
			if have && c == last {
				orow[x] = lastIdx
				continue
			}
			i, ok := index[c]
			if !ok {
				if len(pal) == 256 {
					return nil
				}
				i = uint8(len(pal))
				index[c] = i
				if _, nrgba := img.(*image.NRGBA); nrgba {
					pal = append(pal, color.NRGBA{uint8(c >> 24), uint8(c >> 16), uint8(c >> 8), uint8(c)})
				} else {
					pal = append(pal, color.RGBA{uint8(c >> 24), uint8(c >> 16), uint8(c >> 8), uint8(c)})
				}
			}
			orow[x], last, lastIdx, have = i, c, i, true
		}
	}
	out.Palette = pal
	return out
}

// flatten composites img on white; flattened reports whether any pixel
// was not opaque.
func flatten(img image.Image) (out image.Image, flattened bool) {
	if op, ok := img.(interface{ Opaque() bool }); ok && op.Opaque() {
		switch img.(type) {
		case *image.RGBA, *image.YCbCr, *image.Gray:
			return img, false
		}
		b := img.Bounds()
		rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
		return rgba, false
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Over)
	return rgba, true
}

// predictPNG estimates the best-compression PNG size of img from its
// sample mosaic.
func predictPNG(ctx context.Context, img image.Image, rep *Report) float64 {
	m := newModel(img, rep)
	mo, err := m.mosaic(ctx, 1)
	if err != nil {
		return 0
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&b, mo); err != nil {
		return 0
	}
	rep.SampleEncodes++
	mb := mo.Bounds()
	return float64(b.Len()) / float64(mb.Dx()*mb.Dy()) * float64(m.w*m.h)
}
