package downsample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/internal/jpeg/transcode"
)

// unknownSourceQuality is the quality a JPEG is re-encoded at to turn it
// upright when its own quality cannot be estimated (SourceQuality is 0).
const unknownSourceQuality = 95

// orientationName says what EXIF orientation o (2 to 8) asks a viewer to
// do to the stored pixels to show them upright.
func orientationName(o int) string {
	switch o {
	case 2:
		return "to be mirrored left to right"
	case 3:
		return "to be turned 180 degrees"
	case 4:
		return "to be mirrored top to bottom"
	case 5:
		return "to be mirrored along the main diagonal"
	case 6:
		return "to be turned 90 degrees clockwise"
	case 7:
		return "to be mirrored along the other diagonal"
	case 8:
		return "to be turned 90 degrees anticlockwise"
	}
	return "to be shown as stored"
}

// turnUpright writes a JPEG that is within maxBytes but stored with EXIF
// orientation o (2 to 8) upright, with no EXIF (its ICC profile, if any,
// is kept, unless it is a CMYK image's): losslessly when each axis o
// mirrors is a whole number of MCUs (transcode.New; blocks moved in the DCT domain, every quantisation
// step kept, so its pixels are the turned decode up to the inverse DCT's
// rounding), and otherwise by decoding its pixels upright and re-encoding
// them at a quality no lower than the source's (SourceQuality). ci is
// read, not changed. ok is false when the upright JPEG is over maxBytes:
// the caller then fits the source (which turns it as well), so that a
// photo is fitted once, from its own coefficients.
func (f *Fitter) turnUpright(ctx context.Context, data []byte, ci *coef.Image, o int, maxBytes int64, rep *Report) (out []byte, ok bool, err error) {
	var (
		q    int // tenths; 0 when lossless
		w, h int
	)
	reason := ""
	if t, terr := transcode.New(ci, o); terr != nil {
		reason = terr.Error()
	} else if tt, terr := t.KeepTables(); terr != nil {
		reason = terr.Error()
	} else {
		out, err = t.Encode(ctx, tt)
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		if err != nil {
			reason, out = err.Error(), nil
		} else {
			rep.Lossless, rep.Transcoded = true, true
			w, h = t.Size()
			rep.step(fmt.Sprintf("turned upright in the DCT domain, every quantisation step kept: %d bytes", len(out)))
		}
	}
	if out == nil {
		rep.step(fmt.Sprintf("cannot turn it upright losslessly (%s): decoding the pixels", reason))
		out, w, h, q, err = f.reencodeUpright(ctx, data, ci, o, rep)
		if err != nil {
			return nil, false, err
		}
	}
	rep.Encodes++
	if len(ci.Components) != 4 { // a CMYK profile does not describe the YCbCr output
		out = withICC(out, data)
	}
	if int64(len(out)) > maxBytes {
		rep.step(fmt.Sprintf("upright, it is over the limit of %d bytes: fitting the source instead", maxBytes))
		rep.Lossless, rep.Transcoded = false, false
		return nil, false, nil
	}
	rep.OnlyTurned, rep.LossyReason = true, reason
	fitResult{out: out, q: q, w: w, h: h}.fill(rep)
	return out, true, nil
}

// chromaShifts reports whether turning ci's subsampled chroma planes for
// orientation o would shift them off their luma: a mirrored axis whose
// length is not a whole number of chroma samples (an odd width at 4:2:0,
// mirrored left to right), whose lone last chroma sample would land
// first.
func chromaShifts(ci *coef.Image, o int) bool {
	if len(ci.Components) != 3 {
		return false
	}
	hmax, vmax := 1, 1
	for _, c := range ci.Components {
		hmax, vmax = max(hmax, c.H), max(vmax, c.V)
	}
	sx0, sy0 := orientation.Src(o, 0, 0, 8, 8)
	return (sx0 == 7 && ci.Width%hmax != 0) || (sy0 == 7 && ci.Height%vmax != 0)
}

// uprightPixels decodes the pixels of ci (read from data), stored with
// EXIF orientation o, upright: the coefficients' own pixels, written
// upright as they are reconstructed (over the coefficients' memory when o
// is 1); the decoded colours turned when turning the chroma planes would
// move them one pixel off their luma (chromaShifts); image/jpeg's, turned,
// for RGB and CMYK images. The error is ctx's, or a *FitError.
func uprightPixels(ctx context.Context, data []byte, ci *coef.Image, o int) (img image.Image, err error) {
	switch {
	case o <= 1:
		img, err = ci.PixelsInPlace(ctx)
	case chromaShifts(ci, o):
		img, err = ci.Pixels(ctx, 1)
		if err == nil {
			rgba := image.NewRGBA(image.Rect(0, 0, ci.Width, ci.Height))
			draw.Draw(rgba, rgba.Rect, img, img.Bounds().Min, draw.Src)
			img = orient(rgba, o)
		}
	default:
		img, err = ci.Pixels(ctx, o)
	}
	if errors.Is(err, coef.ErrNotYCbCr) {
		img, err = jpeg.Decode(bytes.NewReader(data))
		if err == nil {
			img = orient(img, o)
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, undecodable("JPEG image", err)
	}
	return img, nil
}

// reencodeUpright decodes ci's pixels upright (image/jpeg's, turned, for
// RGB and CMYK images) and encodes them at the source's quality. q is in
// tenths.
func (f *Fitter) reencodeUpright(ctx context.Context, data []byte, ci *coef.Image, o int, rep *Report) (out []byte, w, h, q int, err error) {
	img, err := uprightPixels(ctx, data, ci, o)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	quality := SourceQuality(data)
	how := "the source's estimated quality"
	if quality <= 0 {
		quality, how = unknownSourceQuality, "the source's quality cannot be estimated"
	}
	out, err = encode.EncodeImage(ctx, img, float64(quality))
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, 0, 0, ctx.Err()
		}
		return nil, 0, 0, 0, fmt.Errorf("encode JPEG: %w", err)
	}
	rep.step(fmt.Sprintf("decoded upright and re-encoded at quality %d (%s): %d bytes", quality, how, len(out)))
	b := img.Bounds()
	return out, b.Dx(), b.Dy(), quality * 10, nil
}

// withICC returns out (a JPEG with no APPn segments) with src's ICC
// profile segments (APP2 "ICC_PROFILE") inserted after SOI, so that a
// photo that is only turned keeps its colours; out itself when src has
// none.
func withICC(out, src []byte) []byte { return insertICC(out, iccSegments(src)) }

// iccSegments returns src's ICC profile segments (APP2 "ICC_PROFILE"),
// marker and length included, in file order; nil when it has none.
func iccSegments(src []byte) []byte {
	var icc []byte
	_ = segment.Header(src, func(s segment.Segment) bool {
		if s.Marker == segment.APP2 && bytes.HasPrefix(s.Data, []byte("ICC_PROFILE\x00")) {
			icc = append(icc, src[s.Start:s.End]...)
		}
		return true
	})
	return icc
}

// insertICC returns the JPEG out with the segments icc after its SOI.
func insertICC(out, icc []byte) []byte {
	if len(icc) == 0 || len(out) < 2 {
		return out
	}
	res := make([]byte, 0, len(out)+len(icc))
	res = append(res, out[:2]...)
	res = append(res, icc...)
	return append(res, out[2:]...)
}
