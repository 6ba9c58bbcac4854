package downsample

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/dct"
	"github.com/gpdoc/gpdoc/stages/downsample/internal/jpegenc"
)

// A transcoder re-encodes a JPEG without leaving the DCT domain: every
// block's quantised coefficients are re-quantised with coarser tables
// (and, for an EXIF orientation, moved and transposed or sign-flipped
// with the block, which is exact in the DCT domain), then entropy-coded
// with optimal Huffman tables. There is no inverse DCT, colour
// conversion, chroma resampling or forward DCT, so the only loss is the
// coarser quantisation, and it is several times faster than decoding and
// re-encoding the pixels.
//
// The output keeps the source's chroma subsampling and is upright. Where
// the source table is already coarser than the chosen quality's, the
// source's step is kept: a finer step would spend bits and restore
// nothing.
type transcoder struct {
	w, h        int // output size
	comps       []tcComp
	interleaved bool
	mcusX       int // MCUs (blocks, when not interleaved) per row
	mcusY       int
	// zig maps an output zig-zag index to the source's, and flip says
	// whether the coefficient changes sign; both from the orientation.
	zig  [64]uint8
	flip [64]int32 // -1 where the sign changes, else 0
}

// tcComp is one output component.
type tcComp struct {
	src      *coef.Component
	h, v     int    // output sampling factors
	dcT, acT uint32 // Huffman tables (huffopt's numbering: DC0, AC0, DC1, AC1)
	chroma   bool
	// blockAt returns the source block for output block (bx, by).
	blockAt func(bx, by int) *coef.Block
}

// errNoTranscode says the image must go through pixels instead.
var errNoTranscode = errors.New("not transcoded in the DCT domain")

// newTranscoder prepares src, stored with EXIF orientation o, for
// transcoding, or returns an error wrapping errNoTranscode: RGB or
// four-component images, and oriented images whose size is not a whole
// number of MCUs (their edge blocks cannot move without re-encoding).
func newTranscoder(src *coef.Image, o int) (*transcoder, error) {
	n := len(src.Components)
	if src.Width <= 0 || src.Height <= 0 {
		return nil, fmt.Errorf("%w: the image is %dx%d", errNoTranscode, src.Width, src.Height)
	}
	if (n != 1 && n != 3) || src.RGB {
		return nil, fmt.Errorf("%w: %d components, RGB %v", errNoTranscode, n, src.RGB)
	}
	if o < 1 || o > 8 {
		o = 1
	}
	t := &transcoder{w: src.Width, h: src.Height, interleaved: n > 1}
	hmax, vmax := 1, 1
	if n > 1 {
		hmax, vmax = src.Components[0].H, src.Components[0].V
		for _, c := range src.Components {
			hmax, vmax = max(hmax, c.H), max(vmax, c.V)
		}
	}
	if o > 1 && (src.Width%(8*hmax) != 0 || src.Height%(8*vmax) != 0) {
		return nil, fmt.Errorf("%w: %dx%d is not a whole number of %dx%d MCUs", errNoTranscode, src.Width, src.Height, 8*hmax, 8*vmax)
	}
	tr := transposes(o)
	if tr {
		t.w, t.h = src.Height, src.Width
		hmax, vmax = vmax, hmax
	}
	// Coefficient mapping. Within a block, the orientation transposes or
	// not (tr) and mirrors the source's x and/or y axis, as where output
	// pixel (0,0) comes from tells. Mirroring an axis negates the
	// coefficients of odd frequency along it: cos((2(7-x)+1)uπ/16) =
	// (-1)^u cos((2x+1)uπ/16).
	sx0, sy0 := srcIndex(o, 0, 0, 8, 8)
	mirrorX, mirrorY := sx0 == 7, sy0 == 7
	for k := range 64 {
		nat := dct.Unzig[k]
		u, v := nat%8, nat/8 // horizontal and vertical frequency
		su, sv := u, v
		if tr {
			su, sv = v, u
		}
		t.zig[k] = zigzag[sv*8+su]
		if (mirrorX && su%2 == 1) != (mirrorY && sv%2 == 1) {
			t.flip[k] = -1
		}
	}
	if t.interleaved {
		t.mcusX = (t.w + 8*hmax - 1) / (8 * hmax)
		t.mcusY = (t.h + 8*vmax - 1) / (8 * vmax)
	} else {
		t.mcusX, t.mcusY = (t.w+7)/8, (t.h+7)/8
	}
	for i := range src.Components {
		sc := &src.Components[i]
		c := tcComp{src: sc, h: sc.H, v: sc.V, chroma: i > 0}
		if !t.interleaved {
			c.h, c.v = 1, 1
		} else if tr {
			c.h, c.v = sc.V, sc.H
		}
		if i > 0 {
			c.dcT, c.acT = 2, 3
		} else {
			c.dcT, c.acT = 0, 1
		}
		if o == 1 {
			c.blockAt = func(bx, by int) *coef.Block { return sc.Block(bx, by) }
		} else {
			// Aligned: the output grid is exactly the image, as is the
			// source's (the source grid is the transpose when tr).
			sbw, sbh := t.mcusX*c.h, t.mcusY*c.v
			if tr {
				sbw, sbh = sbh, sbw
			}
			if sbw > sc.BlocksWide || sbh > sc.BlocksHigh {
				return nil, fmt.Errorf("%w: component %d grid %dx%d, stored %dx%d", errNoTranscode, i, sbw, sbh, sc.BlocksWide, sc.BlocksHigh)
			}
			c.blockAt = func(bx, by int) *coef.Block {
				sx, sy := srcIndex(o, bx, by, sbw, sbh)
				return sc.Block(sx, sy)
			}
		}
		t.comps = append(t.comps, c)
	}
	return t, nil
}

// tcTables are the output quantisation for one quality: per component,
// the ratio of source step to output step of each output coefficient (in
// zig-zag order, 0.32 fixed point) and the rounding bias that goes with
// it, the output tables and which one each component uses.
type tcTables struct {
	ratio  [3][64]uint64
	bias   [3][64]uint64
	dqt    [3]uint8 // output table number of each component
	tables [][64]uint8
}

// tables returns the output quantisation at quality q: the IJG tables
// that jpegenc uses at q, but never finer than the source's step for the
// same coefficient. It fails (wrapping errNoTranscode) when a step would
// not fit a baseline table's byte.
func (t *transcoder) tables(q float64) (*tcTables, error) {
	std := jpegenc.QuantTables(q)
	tt := &tcTables{}
	for i, c := range t.comps {
		var out [64]uint8
		for k := range 64 {
			qs := uint32(c.src.Quant[t.zig[k]])
			qd := uint32(std[0][k])
			if c.chroma {
				qd = uint32(std[1][k])
			}
			qd = max(qd, qs)
			if qd > 255 {
				return nil, fmt.Errorf("%w: source quantisation step %d", errNoTranscode, qs)
			}
			out[k] = uint8(qd)
			// Re-quantising rounds |c|*qs/qd to nearest, halves towards zero:
			// an exact half (common, as steps are integers) costs the same
			// error either way, and zero is cheaper to code. The product's
			// error (|c| * 2^-33 at most) is far inside the 1/(2qd) margin.
			tt.ratio[i][k] = (uint64(qs)<<32 + uint64(qd)/2) / uint64(qd) // 1<<32 when the step is kept
			tt.bias[i][k] = 1<<31 - (1<<31)/uint64(qd)
		}
		id := -1
		for j, have := range tt.tables {
			if have == out {
				id = j
			}
		}
		if id < 0 {
			id = len(tt.tables)
			tt.tables = append(tt.tables, out)
		}
		tt.dqt[i] = uint8(id)
	}
	return tt, nil
}

// errCoefficientRange reports a coefficient a baseline JPEG cannot code
// (only a damaged source has one).
var errCoefficientRange = fmt.Errorf("%w: coefficient out of the baseline range", errNoTranscode)

// appendBlock appends the symbols of one re-quantised block (in
// huffopt's form: table<<28 | symbol<<20 | extraBits<<16 | extraValue)
// and updates the component's DC prediction.
func (t *transcoder) appendBlock(syms []uint32, b *coef.Block, ratio, bias *[64]uint64, pred *int32, dcT, acT uint32) ([]uint32, error) {
	var c [64]int32
	var nonzero uint64 // bit k set when c[k] != 0
	// Branch-free: coefficients are zero or not at random, and a
	// mispredicted branch per coefficient costs more than the arithmetic.
	for k := range 64 {
		v := int32(b[t.zig[k]])
		s := v >> 31 // -1 when negative
		a := (v ^ s) - s
		r := int32((uint64(a)*ratio[k] + bias[k]) >> 32)
		s ^= t.flip[k] // the orientation may flip the sign
		r = (r ^ s) - s
		c[k] = r
		nonzero |= uint64(uint32(r|-r)>>31) << k
	}
	diff := c[0] - *pred
	*pred = c[0]
	n, e := magnitude(diff)
	if n > 11 {
		return syms, errCoefficientRange
	}
	syms = append(syms, dcT<<28|n<<20|n<<16|e)
	last := 0 // zig-zag index of the last coefficient coded
	for rest := nonzero >> 1; rest != 0; rest &= rest - 1 {
		k := bits.TrailingZeros64(rest) + 1
		run := uint32(k - last - 1)
		for run > 15 {
			syms = append(syms, acT<<28|0xF0<<20) // ZRL: sixteen zeros
			run -= 16
		}
		n, e := magnitude(c[k])
		if n > 10 {
			return syms, errCoefficientRange
		}
		syms = append(syms, acT<<28|(run<<4|n)<<20|n<<16|e)
		last = k
	}
	if last < 63 {
		syms = append(syms, acT<<28) // EOB
	}
	return syms, nil
}

// magnitude returns the JPEG size category of v and its extra bits.
func magnitude(v int32) (n, extra uint32) {
	a := v
	if a < 0 {
		a = -a
		v--
	}
	n = uint32(bits.Len32(uint32(a)))
	return n, uint32(v) & (1<<n - 1)
}

// appendRow appends the symbols of MCU row my (block row, when not
// interleaved), carrying the DC predictions in pred.
func (t *transcoder) appendRow(syms []uint32, my int, tt *tcTables, pred *[3]int32) ([]uint32, error) {
	var err error
	if !t.interleaved {
		c := &t.comps[0]
		for mx := range t.mcusX {
			if syms, err = t.appendBlock(syms, c.blockAt(mx, my), &tt.ratio[0], &tt.bias[0], &pred[0], c.dcT, c.acT); err != nil {
				return syms, err
			}
		}
		return syms, nil
	}
	for mx := range t.mcusX {
		for i := range t.comps {
			c := &t.comps[i]
			for j := range c.h * c.v {
				b := c.blockAt(c.h*mx+j%c.h, c.v*my+j/c.h)
				if syms, err = t.appendBlock(syms, b, &tt.ratio[i], &tt.bias[i], &pred[i], c.dcT, c.acT); err != nil {
					return syms, err
				}
			}
		}
	}
	return syms, nil
}

// estimate predicts the output size at tt from every step-th MCU row
// (a sample: the rows' symbol counts, scaled to the whole image, priced
// with the optimal code lengths they imply).
func (t *transcoder) estimate(tt *tcTables, step int) (float64, error) {
	var sample []int
	for my := step / 2; my < t.mcusY; my += step {
		sample = append(sample, my)
	}
	counts := make([]symbolCounts, len(sample))
	extras := make([]int, len(sample))
	bufs := symbolBuffers(len(sample))
	if err := forEach(len(sample), func(w, i int) error {
		pred := [3]int32{}
		syms, err := t.appendRow(bufs[w][:0], sample[i], tt, &pred)
		bufs[w] = syms
		counts[i].add(syms)
		for _, s := range syms {
			extras[i] += int(s>>16) & 0xF
		}
		return err
	}); err != nil {
		return 0, err
	}
	var freq symbolCounts
	bitsTotal := 0.0
	for i := range counts {
		freq.merge(&counts[i])
		bitsTotal += float64(extras[i])
	}
	codes, dht := freq.tables(t.usedTables())
	for tb := range 4 {
		for s, n := range freq[tb][:256] {
			bitsTotal += float64(n) * float64(codes[tb].size[s])
		}
	}
	// 0xFF bytes in the entropy-coded data are followed by a stuffed zero:
	// about one byte in 256 of well-mixed data.
	scale := float64(t.mcusY) / float64(len(sample))
	body := bitsTotal / 8 * scale * (1 + 1.0/256)
	header := len(t.appendHeader(nil, tt, dht, 1)) + 2 // with a DRI, and EOI
	return body + float64(header), nil
}

func (t *transcoder) usedTables() [4]bool {
	used := [4]bool{true, true, false, false}
	if len(t.comps) > 1 {
		used[2], used[3] = true, true
	}
	return used
}

// encode writes the whole image at tt: strips of MCU rows are coded in
// parallel, twice (symbol counts for one set of optimal Huffman tables,
// then the bits), and joined with restart markers.
func (t *transcoder) encode(tt *tcTables) ([]byte, error) {
	rows := t.mcusY
	stripRows, n := stripLayout(rows, t.mcusX)
	type strip struct {
		freq symbolCounts
		out  []byte
	}
	strips := make([]strip, n)
	rowsOf := func(i int) (int, int) { return i * stripRows, min(rows, (i+1)*stripRows) }
	bufs := symbolBuffers(n)
	// Pass 1: symbol counts.
	if err := forEach(n, func(w, i int) error {
		r0, r1 := rowsOf(i)
		pred := [3]int32{}
		for my := r0; my < r1; my++ {
			var err error
			if bufs[w], err = t.appendRow(bufs[w][:0], my, tt, &pred); err != nil {
				return err
			}
			strips[i].freq.add(bufs[w])
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var freq symbolCounts
	for i := range strips {
		freq.merge(&strips[i].freq)
	}
	codes, dht := freq.tables(t.usedTables())
	// Pass 2: the bits.
	if err := forEach(n, func(w, i int) error {
		r0, r1 := rowsOf(i)
		pred := [3]int32{}
		bw := bitWriter{out: make([]byte, 0, 1<<20)}
		for my := r0; my < r1; my++ {
			var err error
			if bufs[w], err = t.appendRow(bufs[w][:0], my, tt, &pred); err != nil {
				return err
			}
			bw.symbols(bufs[w], &codes)
		}
		bw.flush()
		strips[i].out = bw.out
		return nil
	}); err != nil {
		return nil, err
	}
	restart := 0 // one strip: no restart markers
	if n > 1 {
		restart = stripRows * t.mcusX
	}
	parts := make([][]byte, n)
	for i := range strips {
		parts[i] = strips[i].out
	}
	return joinStrips(t.appendHeader(nil, tt, dht, restart), parts), nil
}

// appendHeader appends SOI, a JFIF APP0 (the components are YCbCr or
// grey), the DQT, SOF0, DHT and DRI (restart > 0) segments and the SOS
// header.
func (t *transcoder) appendHeader(out []byte, tt *tcTables, dht []byte, restart int) []byte {
	be := binary.BigEndian
	out = append(out, 0xFF, 0xD8)
	out = append(out, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0)
	for id, q := range tt.tables {
		out = append(out, 0xFF, 0xDB, 0, 67, byte(id))
		out = append(out, q[:]...)
	}
	out = append(out, 0xFF, 0xC0)
	out = be.AppendUint16(out, uint16(8+3*len(t.comps)))
	out = append(out, 8)
	out = be.AppendUint16(out, uint16(t.h))
	out = be.AppendUint16(out, uint16(t.w))
	out = append(out, byte(len(t.comps)))
	for i, c := range t.comps {
		out = append(out, byte(i+1), byte(c.h<<4|c.v), tt.dqt[i])
	}
	out = append(out, dht...)
	out = appendDRI(out, restart)
	out = append(out, 0xFF, 0xDA)
	out = be.AppendUint16(out, uint16(6+2*len(t.comps)))
	out = append(out, byte(len(t.comps)))
	for i, c := range t.comps {
		out = append(out, byte(i+1), byte(c.dcT/2<<4|c.acT/2))
	}
	return append(out, 0, 63, 0)
}

// zigzag maps a natural index (row*8 + column) to its zig-zag index, the
// inverse of dct.Unzig.
var zigzag = func() (z [64]uint8) {
	for i, n := range dct.Unzig {
		z[n] = uint8(i)
	}
	return z
}()

// transcodePlanner fits by transcoding: quality only (the transcode never
// scales), predicted from sample MCU rows.
type transcodePlanner struct {
	t          *transcoder
	minT, maxT int
	step       int // sample every step-th MCU row
	rep        *Report
	sizes      map[int]float64
}

func newTranscodePlanner(t *transcoder, minT, maxT int, rep *Report) *transcodePlanner {
	// About 24 sampled rows, spread over the image: a tenth of the work of
	// a full encode for a 24 MP photo, and within a per cent of its size.
	return &transcodePlanner{t: t, minT: minT, maxT: maxT, step: max(1, t.mcusY/24), rep: rep, sizes: map[int]float64{}}
}

func (p *transcodePlanner) plan(goal float64) (float64, int, bool) {
	q, ok := searchQuality(func(q int) float64 { return p.estimate(1, q) }, goal, p.minT, p.maxT)
	return 1, q, ok
}

// estimate returns +Inf when the image cannot be transcoded at q, so
// that plan gives up and the caller falls back to pixels.
func (p *transcodePlanner) estimate(_ float64, q int) float64 {
	if v, ok := p.sizes[q]; ok {
		return v
	}
	v := math.Inf(1)
	if tt, err := p.t.tables(float64(q) / 10); err == nil {
		if e, err := p.t.estimate(tt, p.step); err == nil {
			v = e
		}
	}
	p.rep.SampleEncodes++
	p.sizes[q] = v
	return v
}

func (p *transcodePlanner) floor(_ float64, q int) bool { return q <= p.minT }

func (p *transcodePlanner) encode(_ float64, q int) ([]byte, int, int, error) {
	tt, err := p.t.tables(float64(q) / 10)
	if err != nil {
		return nil, 0, 0, err
	}
	out, err := p.t.encode(tt)
	return out, p.t.w, p.t.h, err
}
