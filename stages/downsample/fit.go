package downsample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
	"github.com/gpdoc/gpdoc/internal/jpeg/transcode"
	"github.com/gpdoc/gpdoc/internal/resample"
	"golang.org/x/sync/semaphore"
)

// Fitter fits images and PDFs under a budget. It is safe for concurrent
// use; at most Options.MaxConcurrentDecodes images are decoded at once,
// and every decode first reserves its decoded bytes from the decode budget
// (Options.DecodeBudget, shared by the whole process by default).
type Fitter struct {
	opts   Options
	sem    *semaphore.Weighted
	budget *budget.Budget
}

// NewFitter returns a Fitter for opts (zero fields take their defaults).
func NewFitter(opts Options) (*Fitter, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Fitter{opts: o, sem: semaphore.NewWeighted(int64(o.MaxConcurrentDecodes)), budget: budget.Or(o.DecodeBudget)}, nil
}

// Options returns the Fitter's options with defaults filled in.
func (f *Fitter) Options() Options { return f.opts }

// FitJPEG fits a JPEG under opts.MaxBytes with a one-off Fitter. See
// [Fitter.FitJPEG].
func FitJPEG(ctx context.Context, data []byte, opts Options) ([]byte, Report, error) {
	f, err := NewFitter(opts)
	if err != nil {
		return nil, Report{}, err
	}
	return f.FitJPEG(ctx, data, f.opts.MaxBytes)
}

// FitJPEG returns data as a JPEG of at most maxBytes, upright (EXIF
// orientation applied; the output carries no EXIF), with its long edge no
// smaller than Options.MinLongEdge (or its own, if smaller). data is
// returned unchanged when it already fits and has no EXIF orientation
// other than 1. A JPEG that fits but is stored turned is only turned
// upright: losslessly in the DCT domain when each axis the orientation
// mirrors is a whole number of MCUs, else re-encoded at no less than its
// own quality (Report.Lossless says which); if that
// comes out over maxBytes, it is fitted from the source like any other.
// Errors wrap ErrCannotFit, ErrTooManyPixels or ErrUndecodable, or are
// ctx's.
func (f *Fitter) FitJPEG(ctx context.Context, data []byte, maxBytes int64) (out []byte, rep Report, err error) {
	rep = Report{InputMIME: "image/jpeg", OutputMIME: "image/jpeg", OriginalBytes: int64(len(data)), FinalBytes: int64(len(data))}
	o := Orientation(data)
	fits := int64(len(data)) <= maxBytes
	if fits && o <= 1 {
		return data, rep, nil
	}
	cfg, err := f.checkConfig(data, "JPEG image")
	if err != nil {
		return nil, rep, err
	}
	rep.Orientation = o
	rep.OriginalWidth, rep.OriginalHeight = upright(cfg.Width, cfg.Height, o)
	release, err := f.acquireImage(ctx, data)
	if err != nil {
		return nil, rep, err
	}
	defer release()
	maxQ := f.opts.MaxQuality
	if sq := SourceQuality(data); sq > 0 && sq < maxQ {
		maxQ = max(sq, f.opts.MinQuality)
	}
	minQ := min(f.opts.MinQuality, maxQ)
	ci, err := coef.Decode(data)
	if err != nil {
		return nil, rep, undecodable("JPEG image", err)
	}
	// Nothing returned holds the coefficients or pixels made from them in
	// place: the next decode may reuse them.
	defer ci.Release()
	rep.step("read the DCT coefficients")
	if fits {
		out, ok, err := f.turnUpright(ctx, data, ci, o, maxBytes, &rep)
		if err != nil || ok {
			return out, rep, err
		}
	}
	// The source's ICC profile goes with the fitted photo (not a CMYK
	// image's: it does not describe the YCbCr output), so the fit aims at
	// the limit less the profile; one of a tenth of the limit or more is
	// dropped instead.
	var icc []byte
	if len(ci.Components) != 4 {
		icc = iccSegments(data)
	}
	if int64(len(icc)) >= maxBytes/10 {
		if len(icc) > 0 {
			rep.step(fmt.Sprintf("its ICC profile (%d bytes) is a tenth of the limit or more: dropped", len(icc)))
		}
		icc = nil
	}
	target := maxBytes - int64(len(icc))
	keepICC := func(out []byte) []byte {
		if len(icc) > 0 {
			rep.step(fmt.Sprintf("kept its ICC profile (%d bytes)", len(icc)))
		}
		out = insertICC(out, icc)
		rep.FinalBytes = int64(len(out))
		return out
	}
	// First, transcode: re-quantise the coefficients (no pixels).
	if t, err := transcode.New(ci, o); err != nil {
		rep.step(err.Error())
	} else {
		if o > 1 {
			rep.step("turned upright in the DCT domain")
		}
		r, err := fitLoop(ctx, newTranscodePlanner(t, minQ*10, maxQ*10, &rep), target, maxQ*10, &rep)
		if ctx.Err() != nil {
			return nil, rep, ctx.Err()
		}
		if err == nil && r.out != nil {
			rep.Transcoded = true
			r.fill(&rep)
			return keepICC(r.out), rep, nil
		}
		if err != nil {
			rep.step(fmt.Sprintf("transcode failed (%v): decoding the pixels", err))
		} else {
			rep.step(fmt.Sprintf("re-quantising alone cannot fit at quality %d or more: decoding the pixels", minQ))
		}
	}
	// Then pixels, upright (uprightPixels).
	img, err := uprightPixels(ctx, data, ci, o)
	if err != nil {
		return nil, rep, err
	}
	rep.step("decoded")
	out, err = f.fitImage(ctx, img, 1, target, maxQ, &rep)
	var fe *FitError
	if len(icc) > 0 && errors.As(err, &fe) && errors.Is(err, ErrCannotFit) {
		// Say it in terms of the caller's limit.
		fe.Limit, fe.Reached = maxBytes, fe.Reached+int64(len(icc))
		fe.Reason += fmt.Sprintf(" (the limit of %d bytes less its %d-byte ICC profile)", maxBytes, len(icc))
	}
	if err != nil {
		return nil, rep, err
	}
	return keepICC(out), rep, nil
}

// checkConfig reads the header and refuses images over the pixel budget.
func (f *Fitter) checkConfig(data []byte, what string) (image.Config, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return cfg, undecodable(what, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, undecodable(what, fmt.Errorf("image is %dx%d pixels", cfg.Width, cfg.Height))
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > f.opts.MaxPixels {
		return cfg, &FitError{Reason: fmt.Sprintf("the image is %dx%d pixels (%.1f megapixels), more than gpdoc decodes (%.1f megapixels)",
			cfg.Width, cfg.Height, float64(px)/1e6, float64(f.opts.MaxPixels)/1e6), Err: ErrTooManyPixels}
	}
	return cfg, nil
}

// acquire reserves n bytes of the decode budget for decoding what, then
// takes one of the Fitter's decode slots; release gives both back. The
// budget comes first: a PDF fit holds budget while it takes a slot for each
// of its images, so a decode must never hold a slot while it waits for
// budget. A reservation larger than the whole budget is a *FitError
// wrapping ErrOverBudget.
func (f *Fitter) acquire(ctx context.Context, n int64, what string) (release func(), err error) {
	rel, err := f.reserve(ctx, n, what)
	if err != nil {
		return nil, err
	}
	if err := f.sem.Acquire(ctx, 1); err != nil {
		rel()
		return nil, err
	}
	return func() { f.sem.Release(1); rel() }, nil
}

// acquireImage is acquire for an encoded image: the bytes of its decoded
// form, read from its header. For a JPEG that is the larger of its pixels
// and its coefficients (coef.DecodeBytes: 3 bytes a pixel at 4:2:0, but 6
// at 4:4:4 and 8 for four components, where the pixels count 3 or 4).
func (f *Fitter) acquireImage(ctx context.Context, data []byte) (release func(), err error) {
	_, format, n, what, err := budget.ImageCost(data)
	if err != nil {
		return nil, undecodable("image", err)
	}
	if format == "jpeg" {
		if c, err := coef.DecodeBytes(data); err == nil {
			n = max(n, c)
		}
	}
	return f.acquire(ctx, n, what)
}

// reserve reserves n bytes of the decode budget (without a decode slot).
func (f *Fitter) reserve(ctx context.Context, n int64, what string) (release func(), err error) {
	rel, err := f.budget.Acquire(ctx, n, what)
	var oe *budget.OverError
	if errors.As(err, &oe) {
		return nil, &FitError{Reason: oe.Error(), Err: errors.Join(ErrOverBudget, err)}
	}
	return rel, err
}

func upright(w, h, o int) (int, int) {
	if orientation.Transposes(o) {
		return h, w
	}
	return w, h
}

// fitImage encodes img (stored with EXIF orientation o; fitImage owns it)
// upright as a JPEG of at most target bytes, searching quality on a sample mosaic first and scaling only when
// the quality would fall below the floor.
func (f *Fitter) fitImage(ctx context.Context, img image.Image, o int, target int64, maxQ int, rep *Report) ([]byte, error) {
	// Turn the image upright first: for a decoded JPEG (YCbCr, 1.5 bytes a
	// pixel for 4:2:0) that copy is the cheapest, and the caller's copy is
	// garbage from here on.
	if o > 1 {
		img = orient(img, o)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	long := max(w, h)
	floor := min(f.opts.MinLongEdge, long)
	sMin := float64(floor) / float64(long)
	minQ := min(f.opts.MinQuality, maxQ)
	// Qualities are searched in tenths: the encoder takes real qualities,
	// and IJG's integer steps are up to 10 per cent apart in size.
	minT, maxT := minQ*10, maxQ*10
	pp := &pixelPlanner{m: newModel(img, rep), img: img, sMin: sMin, minT: minT, maxT: maxT, target: target, rep: rep}
	r, err := fitLoop(ctx, pp, target, maxT, rep)
	if err != nil {
		return nil, err
	}
	if r.out == nil {
		return nil, cannotFit(target, r.smallest,
			"cannot fit under %d bytes with the long edge at least %d px and JPEG quality at least %d: the smallest encoding reached %d bytes",
			target, floor, minQ, r.smallest)
	}
	r.fill(rep)
	return r.out, nil
}

// A planner chooses what to encode next and encodes it, for fitLoop.
// Qualities are in tenths.
type planner interface {
	// plan returns the scale and quality predicted to fit under goal
	// bytes; try is false when nothing is worth encoding.
	plan(ctx context.Context, goal float64) (s float64, q int, try bool)
	// estimate is the predicted size at (s, q); +Inf when it cannot
	// tell (ctx cancelled, or the image cannot be encoded there).
	estimate(ctx context.Context, s float64, q int) float64
	// encode encodes the whole image at (s, q).
	encode(ctx context.Context, s float64, q int) (out []byte, w, h int, err error)
	// floor reports whether (s, q) is as small as the planner goes.
	floor(s float64, q int) bool
}

// fitResult is fitLoop's outcome: the largest encoding that fitted (out
// is nil when none did) and the smallest size reached.
type fitResult struct {
	out      []byte
	q        int
	w, h     int
	smallest int64
}

// fill records the encoding that fitted in rep.
func (r fitResult) fill(rep *Report) {
	rep.Quality = float64(r.q) / 10
	rep.FinalWidth, rep.FinalHeight = r.w, r.h
	rep.FinalBytes = int64(len(r.out))
}

// fitLoop encodes what p plans until an encoding fits close under target:
// the plan aims at 99 per cent of the budget, each full encode corrects
// the prediction, and it stops after four encodes, at the planner's
// floor, or when a step up from a fit overshoots.
func fitLoop(ctx context.Context, p planner, target int64, maxT int, rep *Report) (fitResult, error) {
	r := fitResult{smallest: math.MaxInt64}
	corr := 1.0                    // measured full size / predicted size, from the last full encode
	goal := float64(target) * 0.99 // aim just under: the prediction is close, and a miss costs one more encode
	tried := map[[2]float64]bool{}
	for attempt := 0; attempt < 4; attempt++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		s, q, try := p.plan(ctx, goal/corr)
		if err := ctx.Err(); err != nil {
			return r, err
		}
		if !try || tried[[2]float64{s, float64(q)}] {
			break // nothing (new) worth encoding
		}
		tried[[2]float64{s, float64(q)}] = true
		out, w, h, err := p.encode(ctx, s, q)
		if err != nil {
			return r, err
		}
		rep.Encodes++
		n := int64(len(out))
		rep.step(fmt.Sprintf("encoded at quality %.1f: %d bytes", float64(q)/10, n))
		r.smallest = min(r.smallest, n)
		if n <= target {
			if r.out == nil || len(out) > len(r.out) {
				r.out, r.q, r.w, r.h = out, q, w, h
			}
			// Good enough: close to the budget, nothing better to try, or
			// this was already the retry upwards.
			if float64(n) >= 0.85*float64(target) || (q >= maxT && s >= 1) || attempt >= 1 {
				break
			}
		} else if r.out != nil {
			break // the step up overshot: keep what fitted
		}
		corr = float64(n) / p.estimate(ctx, s, q)
		if n > target && p.floor(s, q) {
			break
		}
	}
	return r, nil
}

// pixelPlanner fits decoded pixels: quality first, then scale, predicted
// from a sample mosaic (sizeModel), encoded by encode.EncodeImage.
type pixelPlanner struct {
	m             *sizeModel
	img           image.Image
	sMin          float64
	minT, maxT    int
	target        int64
	rep           *Report
	rendered      image.Image
	renderedScale float64
	scratch       []uint8 // the pixels of the last resize, for the next
}

func (p *pixelPlanner) plan(ctx context.Context, goal float64) (float64, int, bool) {
	s, q, _ := p.m.plan(ctx, goal, p.sMin, p.minT, p.maxT)
	return s, q, true // even a predicted miss at the floor is worth one try
}

func (p *pixelPlanner) estimate(ctx context.Context, s float64, q int) float64 {
	return p.m.estimate(ctx, s, q)
}

func (p *pixelPlanner) floor(s float64, q int) bool { return s <= p.sMin && q <= p.minT }

func (p *pixelPlanner) encode(ctx context.Context, s float64, q int) ([]byte, int, int, error) {
	if p.rendered == nil || s != p.renderedScale {
		p.rendered = nil
		r, err := resizeForJPEG(ctx, p.img, s, p.scratch)
		if err != nil {
			return nil, 0, 0, err
		}
		p.rendered, p.renderedScale = r, s
		if ycc, ok := r.(*image.YCbCr); ok && s < 1 {
			p.scratch = ycc.Y[:cap(ycc.Y)]
		}
		if s < 1 {
			p.rep.step(fmt.Sprintf("resized to %dx%d", r.Bounds().Dx(), r.Bounds().Dy()))
		}
	}
	out, err := encode.EncodeImage(ctx, p.rendered, float64(q)/10)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("encode JPEG: %w", err)
	}
	b := p.rendered.Bounds()
	return out, b.Dx(), b.Dy(), nil
}

// resizeForJPEG is resize for an image about to be encoded as a colour
// JPEG: the result is a 4:2:0 *image.YCbCr (resample.YCbCr), 1.5 bytes a
// pixel rather than RGBA's 4, which the encoder takes as it is. A grey
// image is resized as resize does.
func resizeForJPEG(ctx context.Context, img image.Image, s float64, reuse []uint8) (image.Image, error) {
	if _, gray := img.(*image.Gray); s >= 1 || gray {
		return resize(ctx, img, s, nil)
	}
	b := img.Bounds()
	w, h := scaled(b.Dx(), b.Dy(), s)
	return resample.YCbCr(ctx, img, w, h, reuse)
}

// scaled returns the size of a w x h image at scale s (at least 1x1).
func scaled(w, h int, s float64) (int, int) {
	if s >= 1 {
		return w, h
	}
	return max(1, int(math.Round(float64(w)*s))), max(1, int(math.Round(float64(h)*s)))
}

// resize scales img by s (s >= 1 returns img) with resample.RGBA. A grey
// image stays grey. The output may use reuse's memory (see resample.RGBA).
// The error is ctx's. resample.RGBA was measured against imaging.Resize and
// golang.org/x/image/draw (BenchmarkResize24MP, docs/performance-downsample.md):
// it is the fastest of the three on two cores and the only one without a
// full-height intermediate buffer.
func resize(ctx context.Context, img image.Image, s float64, reuse []uint8) (image.Image, error) {
	if s >= 1 {
		return img, nil
	}
	b := img.Bounds()
	w, h := scaled(b.Dx(), b.Dy(), s)
	out, err := resample.RGBA(ctx, img, w, h, reuse)
	if err != nil {
		return nil, err
	}
	if _, ok := img.(*image.Gray); ok {
		gray := image.NewGray(out.Rect)
		for i := range gray.Pix {
			gray.Pix[i] = out.Pix[4*i]
		}
		return gray, nil
	}
	return out, nil
}
