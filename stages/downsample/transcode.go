package downsample

import (
	"context"
	"math"

	"github.com/gpdoc/gpdoc/internal/jpeg/transcode"
)

// transcodePlanner fits by transcoding: quality only (the transcode never
// scales), predicted from sample MCU rows.
type transcodePlanner struct {
	t          *transcode.Transcoder
	minT, maxT int
	step       int // sample every step-th MCU row
	rep        *Report
	sizes      map[int]float64
}

func newTranscodePlanner(t *transcode.Transcoder, minT, maxT int, rep *Report) *transcodePlanner {
	// About 24 sampled rows, spread over the image: a tenth of the work of
	// a full encode for a 24 MP photo, and within a per cent of its size.
	return &transcodePlanner{t: t, minT: minT, maxT: maxT, step: max(1, t.MCURows()/transcode.SampledRows), rep: rep, sizes: map[int]float64{}}
}

func (p *transcodePlanner) plan(ctx context.Context, goal float64) (float64, int, bool) {
	q, ok := searchQuality(func(q int) float64 { return p.estimate(ctx, 1, q) }, goal, p.minT, p.maxT)
	return 1, q, ok
}

// estimate returns +Inf when the image cannot be transcoded at q, so
// that plan gives up and the caller falls back to pixels.
func (p *transcodePlanner) estimate(ctx context.Context, _ float64, q int) float64 {
	if v, ok := p.sizes[q]; ok {
		return v
	}
	v := math.Inf(1)
	if tt, err := p.t.Tables(float64(q) / 10); err == nil {
		if e, err := p.t.Estimate(ctx, tt, p.step); err == nil {
			v = e
		}
	}
	p.rep.SampleEncodes++
	p.sizes[q] = v
	return v
}

func (p *transcodePlanner) floor(_ float64, q int) bool { return q <= p.minT }

func (p *transcodePlanner) encode(ctx context.Context, _ float64, q int) ([]byte, int, int, error) {
	tt, err := p.t.Tables(float64(q) / 10)
	if err != nil {
		return nil, 0, 0, err
	}
	out, err := p.t.Encode(ctx, tt)
	w, h := p.t.Size()
	return out, w, h, err
}
