package downsample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"sort"
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/pdfdoc"
	"github.com/gpdoc/gpdoc/pipeline"
)

// pdfConf is pdfdoc.Config (the reader's limits and guards every PDF of
// gpdoc's gets) set to optimise.
func pdfConf() *model.Configuration {
	conf := pdfdoc.Config(0)
	conf.Cmd = model.OPTIMIZE
	return conf
}

// minPDFImageBytes: image streams smaller than this are left alone.
const minPDFImageBytes = 32 << 10

// maxConsolidateBytes bounds the page content pdfcpu's optimiser may parse
// to drop unused resources (it parses every page's content streams, a
// stream shared by many pages once for each): about half a second of work.
// Over it, resources are left as they are.
const maxConsolidateBytes = 32 << 20

// FitPDF fits a PDF under opts.MaxBytes with a one-off Fitter. See
// [Fitter.FitPDF].
func FitPDF(ctx context.Context, data []byte, opts Options) ([]byte, Report, error) {
	f, err := NewFitter(opts)
	if err != nil {
		return nil, Report{}, err
	}
	return f.FitPDF(ctx, data, f.opts.MaxBytes)
}

// FitPDF brings a PDF under maxBytes: pdfcpu's optimiser first, then, if
// that is not enough, its 8-bit DeviceRGB/DeviceGray/ICCBased image
// XObjects (DCT or Flate encoded, 32 KiB or more) are decoded, resampled
// and re-encoded as JPEG, each within a share of the budget proportional
// to its current size, and replaced in place. Pages, content streams,
// fonts and text are never changed. If the result is still over, the
// error wraps ErrCannotFit and names the size reached.
//
// Resources are bounded: the streams are measured first, by inflating them
// into a counter (nothing is kept), and a PDF whose streams decode to more
// than Options.MaxPDFDecodeBytes is refused (ErrOverBudget); the memory
// the fit will hold is reserved from the decode budget before pdfcpu
// validates and optimises the file; pdfcpu's unused-resource removal, which parses every page's
// content, is skipped when that content is over 32 MiB; and the whole fit
// runs within Options.PDFTimeout (ErrTimeout). ctx is checked between
// streams and images, and pdfcpu's own steps, which take no context, run
// in a goroutine that is abandoned when ctx ends, so that a cancelled fit
// returns at once.
func (f *Fitter) FitPDF(ctx context.Context, data []byte, maxBytes int64) (out []byte, rep Report, err error) {
	rep = Report{InputMIME: "application/pdf", OutputMIME: "application/pdf", OriginalBytes: int64(len(data)), FinalBytes: int64(len(data))}
	if int64(len(data)) <= maxBytes {
		return data, rep, nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, f.opts.PDFTimeout)
	defer cancel()
	out, err = f.fitPDF(ctx, data, maxBytes, &rep)
	if err != nil && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, rep, &FitError{Reason: fmt.Sprintf("fitting the PDF took longer than gpdoc allows (%v); it is too complex to shrink", f.opts.PDFTimeout),
			Err: errors.Join(ErrTimeout, err)}
	}
	return out, rep, err
}

func (f *Fitter) fitPDF(ctx context.Context, data []byte, maxBytes int64, rep *Report) ([]byte, error) {
	// pdfcpu steps abandoned when ctx ends still hold their memory: the
	// reservation is given back only when the last of them has finished.
	var wg sync.WaitGroup
	held := func() {}
	defer func() {
		release := held
		go func() { wg.Wait(); release() }()
	}()
	conf := pdfConf()
	pc, err := pdfcpuStep(ctx, &wg, func() (*model.Context, error) { return api.ReadContext(bytes.NewReader(data), conf) })
	if err != nil {
		return nil, pdfErr(err)
	}
	cost, err := pdfdoc.Measure(ctx, pc.XRefTable, f.opts.MaxPDFDecodeBytes)
	if err != nil {
		return nil, err
	}
	if cost.Streams > f.opts.MaxPDFDecodeBytes {
		return nil, &FitError{Reason: fmt.Sprintf("the PDF's streams decode to more than gpdoc decodes in one PDF (%s)",
			budget.Human(f.opts.MaxPDFDecodeBytes)),
			Err: errors.Join(ErrOverBudget, budget.ErrOverBudget)}
	}
	consolidate := cost.PageContent <= maxConsolidateBytes
	conf.OptimizeResourceDicts = consolidate
	if !consolidate {
		rep.step(fmt.Sprintf("page content decodes to %s across its pages: unused resources not removed", budget.Human(cost.PageContent)))
	}
	// What the fit holds: the input, the optimised copy and a written one
	// with pdfcpu's tables (about four times the file), and, when
	// resources are consolidated, the largest page's parsed content
	// (pdfcpu's tokens take about five times its bytes). Streams are not
	// decoded otherwise; each image recompressed reserves its own pixels.
	need := 4 * int64(len(data))
	if consolidate {
		need += 5 * cost.LargestPage
	}
	if held, err = f.reserve(ctx, need, fmt.Sprintf("%s PDF", budget.Human(int64(len(data))))); err != nil {
		held = func() {}
		return nil, err
	}

	opt, err := pdfcpuStep(ctx, &wg, func() ([]byte, error) {
		if err := api.ValidateContext(pc); err != nil {
			return nil, err
		}
		if err := api.OptimizeContext(pc); err != nil {
			return nil, err
		}
		// pdfdoc.Write, not pdfcpu's writer alone: the same PDF must give
		// the same bytes on every run (no clock-stamped dates or id, no map
		// order).
		return pdfdoc.Write(pc)
	})
	if err != nil {
		return nil, pdfErr(err)
	}
	rep.step(fmt.Sprintf("optimised with pdfcpu: %d bytes", len(opt)))
	reached := min(int64(len(opt)), int64(len(data)))
	if int64(len(opt)) <= maxBytes {
		rep.FinalBytes = int64(len(opt))
		return opt, nil
	}
	reread := func() (*model.Context, error) {
		return pdfcpuStep(ctx, &wg, func() (*model.Context, error) { return api.ReadValidateAndOptimize(bytes.NewReader(opt), conf) })
	}
	if pc, err = reread(); err != nil {
		return nil, pdfErr(err)
	}
	cands := pdfImages(pc.XRefTable)
	var imgBytes int64
	for _, c := range cands {
		imgBytes += int64(len(c.sd.Raw))
	}
	others := int64(len(opt)) - imgBytes
	avail := float64(maxBytes)*0.97 - float64(others) - 256*float64(len(cands))
	if len(cands) == 0 || avail <= 0 {
		return nil, cannotFit(maxBytes, reached,
			"the PDF is still %d bytes after optimisation, over the limit of %d bytes, and its recompressible images hold only %d bytes of it", reached, maxBytes, imgBytes)
	}
	for round := range 3 {
		replaced := 0
		for _, c := range cands {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			share := int64(avail * float64(len(c.sd.Raw)) / float64(imgBytes))
			ok, err := f.recompressPDFImage(ctx, pc.XRefTable, c, share, rep)
			if err != nil {
				return nil, err
			}
			if ok {
				replaced++
			}
		}
		rep.ImagesRecompressed = replaced
		written, err := pdfcpuStep(ctx, &wg, func() ([]byte, error) { return pdfdoc.Write(pc) })
		if err != nil {
			return nil, err
		}
		n := int64(len(written))
		rep.step(fmt.Sprintf("round %d: recompressed %d of %d images: %d bytes", round+1, replaced, len(cands), n))
		reached = min(reached, n)
		if n <= maxBytes {
			rep.FinalBytes = n
			return written, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Shrink the images' share by the overshoot and try again from the
		// original images. The written context must be read afresh.
		avail *= float64(maxBytes) / float64(n) * 0.95
		if pc, err = reread(); err != nil {
			return nil, pdfErr(err)
		}
		cands = pdfImages(pc.XRefTable)
	}
	return nil, cannotFit(maxBytes, reached,
		"the PDF cannot fit under %d bytes without dropping content: after optimisation and recompressing its images (long edge at least %d px, quality at least %d) it is still %d bytes",
		maxBytes, f.opts.MinLongEdge, f.opts.MinQuality, reached)
}

// pdfErr is undecodable for pdfcpu's errors, and passes ctx's through.
func pdfErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return undecodable("PDF", err)
}

// pdfcpuStep runs one pdfcpu call, which takes no context, in its own
// goroutine and returns its result, or ctx's error as soon as ctx ends;
// the abandoned call finishes in the background (wg says when) and its
// result is dropped. A panic in fn is raised again here.
func pdfcpuStep[T any](ctx context.Context, wg *sync.WaitGroup, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var r result
		// A panic here is recovered where it happened, so that it is
		// classified by its own stack (a panic inside pdfcpu is a problem
		// with the file, any other a bug), and handed to the caller as a
		// *pipeline.PanicError.
		r.err = pipeline.Recover(nil, func() error {
			var err error
			r.v, err = fn()
			return err
		})
		ch <- r
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

type pdfImage struct {
	objNr int
	entry *model.XRefTableEntry
	sd    types.StreamDict
	comps int // 1 or 3
}

// pdfImages lists the image XObjects gpdoc knows how to recompress,
// largest first.
func pdfImages(xt *model.XRefTable) []pdfImage {
	var out []pdfImage
	for nr, e := range xt.Table {
		if e == nil || e.Free || e.Object == nil {
			continue
		}
		sd, ok := e.Object.(types.StreamDict)
		if !ok || len(sd.Raw) < minPDFImageBytes {
			continue
		}
		if st := sd.NameEntry("Subtype"); st == nil || *st != "Image" {
			continue
		}
		if im := sd.BooleanEntry("ImageMask"); im != nil && *im {
			continue
		}
		if bpc := sd.IntEntry("BitsPerComponent"); bpc == nil || *bpc != 8 {
			continue
		}
		if _, has := sd.Find("Decode"); has {
			continue
		}
		if len(sd.FilterPipeline) != 1 || (sd.FilterPipeline[0].Name != filter.DCT && sd.FilterPipeline[0].Name != filter.Flate) {
			continue
		}
		comps := colourComponents(xt, sd)
		if comps != 1 && comps != 3 {
			continue
		}
		out = append(out, pdfImage{objNr: nr, entry: e, sd: sd, comps: comps})
	}
	// Largest first; equal sizes by object number, so that the report's
	// steps do not follow the map order of the cross-reference table.
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].sd.Raw) != len(out[j].sd.Raw) {
			return len(out[i].sd.Raw) > len(out[j].sd.Raw)
		}
		return out[i].objNr < out[j].objNr
	})
	return out
}

// colourComponents returns 1 or 3 for DeviceGray, DeviceRGB and ICCBased
// colour spaces with N 1 or 3, else 0.
func colourComponents(xt *model.XRefTable, sd types.StreamDict) int {
	o, found := sd.Find("ColorSpace")
	if !found {
		return 0
	}
	o, err := xt.Dereference(o)
	if err != nil {
		return 0
	}
	switch cs := o.(type) {
	case types.Name:
		switch cs {
		case "DeviceGray":
			return 1
		case "DeviceRGB":
			return 3
		}
	case types.Array:
		if len(cs) == 2 {
			if n, ok := cs[0].(types.Name); ok && n == "ICCBased" {
				if icc, _, err := xt.DereferenceStreamDict(cs[1]); err == nil && icc != nil {
					if nn := icc.IntEntry("N"); nn != nil && (*nn == 1 || *nn == 3) {
						return *nn
					}
				}
			}
		}
	}
	return 0
}

// recompressPDFImage re-encodes one image XObject within budget bytes and
// replaces it in the table; false if it was left as it was.
func (f *Fitter) recompressPDFImage(ctx context.Context, xt *model.XRefTable, c pdfImage, budget int64, rep *Report) (bool, error) {
	if budget >= int64(len(c.sd.Raw)) || budget <= 0 {
		return false, nil
	}
	w, h := c.sd.IntEntry("Width"), c.sd.IntEntry("Height")
	if w == nil || h == nil || *w <= 0 || *h <= 0 || int64(*w)*int64(*h) > f.opts.MaxPixels {
		return false, nil
	}
	// The decoded samples, and for RGB the RGBA copy the encoder takes.
	px := int64(*w) * int64(*h)
	need := px * int64(c.comps)
	if c.comps == 3 {
		need += 4 * px
	}
	release, err := f.acquire(ctx, need, fmt.Sprintf("%d×%d-pixel image (object %d) in the PDF", *w, *h, c.objNr))
	if err != nil {
		return false, err
	}
	defer release()
	img, err := decodePDFImage(c, *w, *h)
	if err != nil {
		return false, nil // leave an image gpdoc cannot read as it is
	}
	var sub Report
	out, err := f.fitImage(ctx, img, 1, budget, f.opts.MaxQuality, &sub)
	rep.Encodes += sub.Encodes
	rep.SampleEncodes += sub.SampleEncodes
	if err != nil {
		var fe *FitError
		if errors.As(err, &fe) {
			return false, nil
		}
		return false, err
	}
	d := types.Dict{}
	for k, v := range c.sd.Dict {
		d[k] = v
	}
	delete(d, "DecodeParms")
	d["Width"] = types.Integer(sub.FinalWidth)
	d["Height"] = types.Integer(sub.FinalHeight)
	d["BitsPerComponent"] = types.Integer(8)
	d["Filter"] = types.Name(filter.DCT)
	n := int64(len(out))
	d["Length"] = types.Integer(n)
	c.entry.Object = types.StreamDict{Dict: d, Raw: out, StreamLength: &n,
		FilterPipeline: []types.PDFFilter{{Name: filter.DCT}}}
	rep.step(fmt.Sprintf("image obj %d: %dx%d %d bytes -> %dx%d JPEG q%g %d bytes",
		c.objNr, *w, *h, len(c.sd.Raw), sub.FinalWidth, sub.FinalHeight, sub.Quality, n))
	return true, nil
}

// decodePDFImage returns the pixels of a DCT or Flate image XObject.
func decodePDFImage(c pdfImage, w, h int) (img image.Image, err error) {
	if c.sd.FilterPipeline[0].Name == filter.DCT {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(c.sd.Raw))
		if err != nil {
			return nil, err
		}
		if cfg.Width != w || cfg.Height != h {
			return nil, errors.New("JPEG size differs from the image dictionary")
		}
		img, err := jpeg.Decode(bytes.NewReader(c.sd.Raw))
		if err != nil {
			return nil, err
		}
		switch img.(type) {
		case *image.YCbCr, *image.Gray:
			return img, nil
		}
		return nil, errors.New("unsupported JPEG colour model")
	}
	sd := c.sd
	sd.Content = nil
	if err := sd.Decode(); err != nil {
		return nil, err
	}
	if len(sd.Content) < w*h*c.comps {
		return nil, errors.New("short image data")
	}
	if c.comps == 1 {
		return &image.Gray{Pix: sd.Content[:w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
	}
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(rgba.Pix[4*i:4*i+3], sd.Content[3*i:3*i+3])
		rgba.Pix[4*i+3] = 255
	}
	return rgba, nil
}
