package validate

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"github.com/gpdoc/gpdoc/conneqt"
	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/pngmeta"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/segment"
	"github.com/gpdoc/gpdoc/pipeline"
)

// Limits on what a PNG's compressed metadata may inflate to: Go's decoder
// skips those chunks, but anything that reads metadata would inflate them
// (the zTXt bomb). A text chunk over 1 MiB is Pillow's limit too.
const (
	maxPNGTextChunk = 1 << 20
	maxPNGMetadata  = 16 << 20
)

// checkImage checks an image's structure, header and pixel budget, and then,
// when fullDecode is set, that its pixels decode: a JPEG is checked by its
// entropy decode alone (coef.Check), which fails exactly where image/jpeg's
// Decode would, without the inverse DCT, colour conversion or pixel buffer
// of a decode; a PNG by inflating its image data and checking its rows'
// filter types and number (pngmeta.Check), which fails exactly where
// image/png's Decode would, without unfiltering a row or holding the image.
// A paletted PNG is still decoded, as image/png lets a pixel use an index
// past the PLTE chunk's colours, which only its pixels show and this
// refuses, unless the palette has a colour for every index its bit depth
// can hold (256 for 8 bits, 2 for 1 bit): then only a tRNS chunk longer
// than the palette lengthens it, and the check suffices.
func checkImage(data []byte, kind string, opts Options, content string, r *report, fullDecode bool) {
	plte, trns := -1, -1
	progressive := false
	switch kind {
	case conneqt.MIMEJPEG:
		info, err := segment.Parse(data)
		if err != nil {
			r.problem(content, "is not a valid JPEG: "+err.Error(), "")
			return
		}
		if info.Incomplete != "" {
			r.problem(content, "is damaged: "+info.Incomplete, "")
			return
		}
		if u := info.Unsupported(); u != "" {
			r.problem(content, fmt.Sprintf("%v: %s, which gpdoc cannot decode; save it as a baseline or progressive JPEG", pipeline.ErrUnsupported, u), "")
			return
		}
		progressive = info.SOF == 0xC2
		// A photo stored sideways (an EXIF orientation other than 1, read
		// as downsample reads it) is decoded in full by the downsample
		// stage to turn it upright, which reports one that does not decode.
		if !opts.exact && info.Orientation > 1 {
			fullDecode = false
		}
	case conneqt.MIMEPNG:
		var err error
		plte, trns, err = checkPNGChunks(data)
		if err != nil {
			r.problem(content, "is not a valid PNG: "+err.Error(), "")
			return
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		r.problem(content, decodeReason("its header does not decode", err), "")
		return
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		r.problem(content, fmt.Sprintf("declares an empty image (%d×%d pixels)", cfg.Width, cfg.Height), "")
		return
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	if px > opts.maxPixels() {
		r.problem(content, fmt.Sprintf("%v: declares %d×%d = %d pixels, more than the budget of %d; refused before decoding (a decompression bomb?)",
			pipeline.ErrTooLarge, cfg.Width, cfg.Height, px, opts.maxPixels()), "")
		return
	}
	if !fullDecode {
		return
	}
	var img image.Image
	_, paletted := cfg.ColorModel.(color.Palette)
	// data[24] is IHDR's bit depth: Chunks found IHDR first, and its header
	// decoded.
	fullPalette := paletted && plte == 1<<data[24]
	switch {
	case kind == conneqt.MIMEJPEG:
		err = checkJPEGWithin(r.ctx, data, cfg, progressive)
	case paletted && !fullPalette:
		img, err = decodeWithin(r.ctx, data)
	default:
		err = checkPNGWithin(r.ctx, data)
	}
	var oe *budget.OverError
	switch {
	case errors.As(err, &oe):
		r.problem(content, fmt.Sprintf("%v: %v", pipeline.ErrTooLarge, oe), "")
		return
	case err != nil && r.ctx != nil && r.ctx.Err() != nil:
		r.problem(content, fmt.Sprintf("was not decoded: %v", err), "")
		return
	case err != nil:
		r.problem(content, decodeReason("does not decode", err), "")
		return
	}
	// image/png's palette is as long as the PLTE chunk, the tRNS chunk and
	// the largest index used (plus one) make it.
	if p, ok := img.(*image.Paletted); ok && plte >= 0 && len(p.Palette) > plte || fullPalette && trns > plte {
		r.problem(content, fmt.Sprintf("is not a valid PNG: pixels use palette entries its PLTE chunk (%d colours) does not define", plte), "")
	}
}

func decodeReason(what string, err error) string {
	var ju jpeg.UnsupportedError
	var cu coef.UnsupportedError
	var pu png.UnsupportedError
	if errors.As(err, &ju) || errors.As(err, &cu) || errors.As(err, &pu) {
		return fmt.Sprintf("%v: %v, which gpdoc cannot decode", pipeline.ErrUnsupported, err)
	}
	return fmt.Sprintf("is damaged: %s (%v)", what, err)
}

// checkPNGChunks walks a PNG's chunks with pngmeta.Chunks (the one chunk
// walker: bounds, types and CRCs) and checks that the compressed metadata
// inflates to at most maxPNGMetadata. It returns the number of PLTE entries
// and the length of the tRNS chunk (-1 without one).
func checkPNGChunks(data []byte) (plte, trns int, err error) {
	chunks, _, err := pngmeta.Chunks(data)
	if err != nil {
		// The reason, without pngmeta's "not a well-formed PNG: ".
		return 0, 0, errors.New(strings.TrimPrefix(err.Error(), pngmeta.ErrNotPNG.Error()+": "))
	}
	plte, trns = -1, -1
	budget := int64(maxPNGMetadata)
	for _, c := range chunks {
		typ, body := c.Type, data[c.Offset+8:c.Offset+8+c.Len]
		var compressed []byte
		switch typ {
		case "PLTE":
			plte = c.Len / 3
		case "tRNS":
			trns = c.Len
		case "zTXt", "iCCP":
			if i := bytes.IndexByte(body, 0); i >= 0 && i+2 <= len(body) {
				compressed = body[i+2:]
			}
		case "iTXt":
			if i := bytes.IndexByte(body, 0); i >= 0 && i+3 <= len(body) && body[i+1] == 1 {
				rest := body[i+3:]
				// language tag and translated keyword, each NUL-ended
				for k := 0; k < 2; k++ {
					j := bytes.IndexByte(rest, 0)
					if j < 0 {
						rest = nil
						break
					}
					rest = rest[j+1:]
				}
				compressed = rest
			}
		}
		if compressed != nil {
			zr, err := zlib.NewReader(bytes.NewReader(compressed))
			if err != nil {
				return 0, 0, fmt.Errorf("chunk %q is not valid zlib data", typ)
			}
			limit := budget
			if typ != "iCCP" {
				limit = min(limit, maxPNGTextChunk)
			}
			got, err := io.Copy(io.Discard, io.LimitReader(zr, limit+1))
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, 0, fmt.Errorf("chunk %q is not valid zlib data (%v)", typ, err)
			}
			if got > limit && typ != "iCCP" {
				return 0, 0, fmt.Errorf("%v: text chunk %q inflates to more than %d bytes (a decompression bomb)", pipeline.ErrTooLarge, typ, maxPNGTextChunk)
			}
			budget -= got
			if budget < 0 {
				return 0, 0, fmt.Errorf("%v: its metadata chunks inflate to more than %d bytes (a decompression bomb)", pipeline.ErrTooLarge, maxPNGMetadata)
			}
		}
	}
	return plte, trns, nil
}

// decodeWithin fully decodes a PNG once the process-wide decode budget
// (internal/budget) has room for its decoded form: a backfill validating
// many large images concurrently must not hold one decoded copy of each.
// An image whose decoded form is larger than the whole budget is refused
// with an *budget.OverError; ctx (nil: none) bounds the wait. It decodes
// with png.Decode over the bytes, as the downsample stage does and as
// pngmeta.Check decides (image.Decode reads through a bufio.Reader, which
// can refuse unused bytes after the image data that png.Decode accepts).
func decodeWithin(ctx context.Context, data []byte) (image.Image, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	_, _, n, what, err := budget.ImageCost(data)
	if err != nil {
		return nil, err
	}
	release, err := budget.Process().Acquire(ctx, n, what)
	if err != nil {
		return nil, err
	}
	defer release()
	return png.Decode(bytes.NewReader(data))
}

// checkPNGWithin checks that a PNG's image data decodes (pngmeta.Check)
// without decoding it. Its decoded form is still held to the whole decode
// budget as a decode is (an *budget.OverError when it is larger: a later
// stage that decodes it could not), but nothing is reserved or waited for:
// the check holds a few tens of kilobytes whatever the image's size, as
// the check of a baseline JPEG does. ctx (nil: none) cancels the check.
func checkPNGWithin(ctx context.Context, data []byte) error {
	_, _, n, what, err := budget.ImageCost(data)
	if err != nil {
		return err
	}
	if err := budget.Process().Check(n, what); err != nil {
		return err
	}
	return pngmeta.Check(ctx, data)
}

// checkJPEGWithin checks that a JPEG's scans decode (coef.Check). Its decoded
// form (the larger of its pixels and its coefficients) is still held to the
// whole decode budget, as before the check stopped decoding pixels (an *budget.OverError when it is larger: a later
// stage that decodes it could not), but only what the check holds is
// reserved and waited for: nothing for a sequential JPEG, the coefficients
// of a progressive one.
func checkJPEGWithin(ctx context.Context, data []byte, cfg image.Config, progressive bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	b := budget.Process()
	what := fmt.Sprintf("%d×%d-pixel JPEG image", cfg.Width, cfg.Height)
	decoded := budget.ImageBytes(cfg)
	if c, err := coef.DecodeBytes(data); err == nil {
		decoded = max(decoded, c) // what downsample's decode holds
	}
	if err := b.Check(decoded, what); err != nil {
		return err
	}
	release, err := b.Acquire(ctx, coef.CheckBytes(cfg.Width, cfg.Height, progressive), what)
	if err != nil {
		return err
	}
	defer release()
	return coef.Check(data)
}
