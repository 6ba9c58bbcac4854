// Package transcode re-encodes a JPEG without leaving the DCT domain: every
// block's quantised coefficients (read by internal/jpeg/coef) are
// re-quantised with coarser tables, or kept exactly, and, for an EXIF
// orientation, moved and transposed or sign-flipped with the block, which
// is exact in the DCT domain; then they are entropy-coded with
// near-optimal Huffman tables (internal/jpeg/encode). The downsample stage uses it to fit
// a photo under the size limit, and to turn a sideways photo upright
// losslessly.
package transcode

import (
	"context"
	"errors"
	"fmt"
	"math/bits"

	"github.com/gpdoc/gpdoc/internal/jpeg/coef"
	"github.com/gpdoc/gpdoc/internal/jpeg/dct"
	"github.com/gpdoc/gpdoc/internal/jpeg/encode"
	"github.com/gpdoc/gpdoc/internal/jpeg/orientation"
)

// A Transcoder re-encodes a JPEG without leaving the DCT domain: every
// block's quantised coefficients are re-quantised with coarser tables
// (and, for an EXIF orientation, moved and transposed or sign-flipped
// with the block, which is exact in the DCT domain), then entropy-coded
// with near-optimal Huffman tables. There is no inverse DCT, colour
// conversion, chroma resampling or forward DCT, so the only loss is the
// coarser quantisation, and it is several times faster than decoding and
// re-encoding the pixels.
//
// The output keeps the source's chroma subsampling and is upright. Where
// the source table is already coarser than the chosen quality's, the
// source's step is kept: a finer step would spend bits and restore
// nothing.
type Transcoder struct {
	w, h        int // output size
	comps       []tcComp
	interleaved bool
	mcusX       int // MCUs (blocks, when not interleaved) per row
	mcusY       int
	// zig maps an output zig-zag index to the source's, and flip says
	// whether the coefficient changes sign; both from the orientation.
	zig  [64]uint8
	flip [64]int32 // -1 where the sign changes, else 0
	// moveTable[j][v], when the orientation moves coefficients
	// (transposes), is the set of output positions of the source
	// positions 8j+i for each bit i of v.
	moveTable *[8][256]uint64
}

// tcComp is one output component.
type tcComp struct {
	src      *coef.Component
	h, v     int    // output sampling factors
	dcT, acT uint32 // Huffman tables (encode.LumaDC... numbering)
	chroma   bool
	// Output block (bx, by) is source block
	// Blocks[origin + bx*stepX + by*stepY]: an orientation maps block
	// coordinates affinely.
	origin, stepX, stepY int
}

// blockAt returns the source block of output block (bx, by).
func (c *tcComp) blockAt(bx, by int) *coef.Block {
	return &c.src.Blocks[c.origin+bx*c.stepX+by*c.stepY]
}

// ErrNoTranscode says the image must go through pixels instead.
var ErrNoTranscode = errors.New("not transcoded in the DCT domain")

// New prepares src, stored with EXIF orientation o, for
// transcoding, or returns an error wrapping [ErrNoTranscode]: RGB or
// four-component images, and oriented images whose size is not a whole
// number of MCUs along an axis the orientation mirrors (their partial edge
// blocks cannot move to the other side without re-encoding).
func New(src *coef.Image, o int) (*Transcoder, error) {
	n := len(src.Components)
	if src.Width <= 0 || src.Height <= 0 {
		return nil, fmt.Errorf("%w: the image is %dx%d", ErrNoTranscode, src.Width, src.Height)
	}
	if (n != 1 && n != 3) || src.RGB {
		return nil, fmt.Errorf("%w: %d components, RGB %v", ErrNoTranscode, n, src.RGB)
	}
	if o < 1 || o > 8 {
		o = 1
	}
	t := &Transcoder{w: src.Width, h: src.Height, interleaved: n > 1}
	hmax, vmax := 1, 1
	if n > 1 {
		hmax, vmax = src.Components[0].H, src.Components[0].V
		for _, c := range src.Components {
			hmax, vmax = max(hmax, c.H), max(vmax, c.V)
		}
	}
	// Only a mirrored axis (as the orientation reverses the source's x or
	// y) must be a whole number of MCUs: its partial edge MCU would move to
	// the other side. An edge that is not mirrored stays an edge.
	sx0, sy0 := orientation.Src(o, 0, 0, 8, 8)
	mirrorX, mirrorY := sx0 == 7, sy0 == 7
	if (mirrorX && src.Width%(8*hmax) != 0) || (mirrorY && src.Height%(8*vmax) != 0) {
		return nil, fmt.Errorf("%w: %dx%d is not a whole number of %dx%d MCUs along the axis orientation %d mirrors",
			ErrNoTranscode, src.Width, src.Height, 8*hmax, 8*vmax, o)
	}
	tr := orientation.Transposes(o)
	if tr {
		t.w, t.h = src.Height, src.Width
		hmax, vmax = vmax, hmax
	}
	// Coefficient mapping. Within a block, the orientation transposes or
	// not (tr) and mirrors the source's x and/or y axis, as where output
	// pixel (0,0) comes from tells. Mirroring an axis negates the
	// coefficients of odd frequency along it: cos((2(7-x)+1)uπ/16) =
	// (-1)^u cos((2x+1)uπ/16).
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
	if tr {
		t.moveTable = new([8][256]uint64)
		for k := range 64 {
			src := int(t.zig[k])
			j, bit := src/8, uint(src%8)
			for v := range 256 {
				if v>>bit&1 != 0 {
					t.moveTable[j][v] |= 1 << k
				}
			}
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
			c.dcT, c.acT = encode.ChromaDC, encode.ChromaAC
		} else {
			c.dcT, c.acT = encode.LumaDC, encode.LumaAC
		}
		c.origin, c.stepX, c.stepY = 0, 1, sc.BlocksWide
		if o != 1 {
			// Aligned: the output grid is exactly the image, as is the
			// source's (the source grid is the transpose when tr).
			sbw, sbh := t.mcusX*c.h, t.mcusY*c.v
			if tr {
				sbw, sbh = sbh, sbw
			}
			if sbw > sc.BlocksWide || sbh > sc.BlocksHigh {
				return nil, fmt.Errorf("%w: component %d grid %dx%d, stored %dx%d", ErrNoTranscode, i, sbw, sbh, sc.BlocksWide, sc.BlocksHigh)
			}
			index := func(bx, by int) int {
				sx, sy := orientation.Src(o, bx, by, sbw, sbh)
				return sy*sc.BlocksWide + sx
			}
			c.origin = index(0, 0)
			c.stepX, c.stepY = index(1, 0)-c.origin, index(0, 1)-c.origin
		}
		t.comps = append(t.comps, c)
	}
	return t, nil
}

// Tables are the output quantisation for one quality: per component,
// the ratio of source step to output step of each output coefficient (in
// zig-zag order, 0.32 fixed point) and the rounding bias that goes with
// it, the output tables and which one each component uses.
type Tables struct {
	ratio [3][64]uint64
	bias  [3][64]uint64
	// kept is set when every step is the source's (KeepTables): each
	// coefficient is then only moved and sign-flipped.
	kept   bool
	dqt    [3]uint8 // output table number of each component
	tables [][64]uint8
}

// Tables returns the output quantisation at quality q: the IJG tables
// (encode.QuantTables) at q, but never finer than the source's step for the
// same coefficient. It fails (wrapping ErrNoTranscode) when a step would
// not fit a baseline table's byte.
func (t *Transcoder) Tables(q float64) (*Tables, error) {
	std := encode.QuantTables(q)
	tt := &Tables{}
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
				return nil, fmt.Errorf("%w: source quantisation step %d", ErrNoTranscode, qs)
			}
			out[k] = uint8(qd)
			// Re-quantising rounds |c|*qs/qd to nearest, halves towards zero:
			// an exact half (common, as steps are integers) costs the same
			// error either way, and zero is cheaper to code. The product's
			// error (|c| * 2^-33 at most) is far inside the 1/(2qd) margin.
			tt.ratio[i][k] = (uint64(qs)<<32 + uint64(qd)/2) / uint64(qd) // 1<<32 when the step is kept
			tt.bias[i][k] = 1<<31 - (1<<31)/uint64(qd)
		}
		tt.use(i, out)
	}
	return tt, nil
}

// use makes out the table of component i, sharing an identical one.
func (tt *Tables) use(i int, out [64]uint8) {
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

// appendBlock re-quantises source block b with ratio and bias (and moves
// and sign-flips its coefficients for the orientation) and gives it to w
// as component comp's.
func (t *Transcoder) appendBlock(w *encode.BlockWriter, b *coef.Block, ratio, bias *[64]uint64, kept bool, comp int, dcT, acT uint32) error {
	var c [64]int32
	var nonzero uint64 // bit k set when c[k] != 0
	// Branch-free: coefficients are zero or not at random, and a
	// mispredicted branch per coefficient costs more than the arithmetic.
	if kept {
		// Ratio 1, bias 0: the rounding below is the identity, so the
		// output's nonzero coefficients are the source's, moved. Only
		// those (a photo's blocks are mostly zeros) and the DC are set:
		// w.Block reads no other.
		nonzero = t.moved(sourceNonzero(b))
		c[0] = int32(b[0]) // the DC neither moves nor changes sign
		for rest := nonzero &^ 1; rest != 0; rest &= rest - 1 {
			k := bits.TrailingZeros64(rest)
			v, f := int32(b[t.zig[k]]), t.flip[k]
			c[k] = (v ^ f) - f
		}
		if err := w.Block(&c, nonzero, comp, dcT, acT); err != nil {
			return fmt.Errorf("%w: %w", ErrNoTranscode, err)
		}
		return nil
	}
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
	if err := w.Block(&c, nonzero, comp, dcT, acT); err != nil {
		return fmt.Errorf("%w: %w", ErrNoTranscode, err)
	}
	return nil
}

// sourceNonzero returns the zig-zag positions of b's nonzero coefficients
// as a bit set, four coefficients at a time and without a branch (whether
// a coefficient is zero is not predictable).
func sourceNonzero(b *coef.Block) uint64 {
	const (
		low15 = 0x7FFF_7FFF_7FFF_7FFF
		high  = 0x8000_8000_8000_8000
		// gather moves the bits at 0, 16, 32 and 48 to 48, 49, 50 and 51
		// (every partial product lands on a bit of its own: no carries).
		gather = 1<<48 | 1<<33 | 1<<18 | 1<<3
	)
	var nz uint64
	for w := range 16 {
		q := uint64(uint16(b[4*w])) | uint64(uint16(b[4*w+1]))<<16 | uint64(uint16(b[4*w+2]))<<32 | uint64(uint16(b[4*w+3]))<<48
		lanes := (q | (q&low15 + low15)) & high // a lane's top bit: it is not zero
		nz |= (lanes >> 15 * gather >> 48 & 0xF) << (4 * w)
	}
	return nz
}

// moved returns the output positions of the source positions in set: the
// same positions unless the orientation transposes, when each byte of
// set is looked up in moveTable.
func (t *Transcoder) moved(set uint64) uint64 {
	if t.moveTable == nil {
		return set
	}
	var out uint64
	for j := range 8 {
		out |= t.moveTable[j][byte(set>>(8*j))]
	}
	return out
}

// appendRow gives w the blocks of MCU row my (block row, when not
// interleaved).
func (t *Transcoder) appendRow(w *encode.BlockWriter, my int, tt *Tables) error {
	if !t.interleaved {
		c := &t.comps[0]
		for mx := range t.mcusX {
			if err := t.appendBlock(w, c.blockAt(mx, my), &tt.ratio[0], &tt.bias[0], tt.kept, 0, c.dcT, c.acT); err != nil {
				return err
			}
		}
		return nil
	}
	for mx := range t.mcusX {
		for i := range t.comps {
			c := &t.comps[i]
			for j := range c.h * c.v {
				b := c.blockAt(c.h*mx+j%c.h, c.v*my+j/c.h)
				if err := t.appendBlock(w, b, &tt.ratio[i], &tt.bias[i], tt.kept, i, c.dcT, c.acT); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// frame describes the output at tt, and rows produces its MCU rows.
func (t *Transcoder) frame(tt *Tables) (*encode.Frame, encode.RowFunc) {
	f := &encode.Frame{Width: t.w, Height: t.h, Quant: tt.tables}
	for i, c := range t.comps {
		f.Components = append(f.Components, encode.Component{H: c.h, V: c.v, Quant: tt.dqt[i], DC: c.dcT, AC: c.acT})
	}
	return f, func(w *encode.BlockWriter, my int) error {
		return t.appendRow(w, my, tt)
	}
}

// Size is the output's size in pixels (upright).
func (t *Transcoder) Size() (w, h int) { return t.w, t.h }

// MCURows is the number of MCU rows (block rows, when not interleaved) of
// the output, for choosing Estimate's step.
func (t *Transcoder) MCURows() int { return t.mcusY }

// Estimate predicts the output size at tt from every step-th MCU row.
func (t *Transcoder) Estimate(ctx context.Context, tt *Tables, step int) (float64, error) {
	f, rows := t.frame(tt)
	return encode.Estimate(ctx, f, rows, step)
}

// Encode writes the whole image at tt, in parallel strips. A photo of
// at least 2*SampledRows MCU rows is re-quantised and coded once, with
// Huffman tables from SampledRows rows spread over it
// (encode.EncodeSampled: a fraction of a per cent larger than optimal
// tables, for 0.6 to 0.77 of the time); a smaller image gets optimal tables
// (encode.Encode, its rows re-quantised twice rather than kept).
func (t *Transcoder) Encode(ctx context.Context, tt *Tables) ([]byte, error) {
	f, rows := t.frame(tt)
	return encode.EncodeSampled(ctx, f, rows, t.mcusY/SampledRows)
}

// SampledRows is about how many MCU rows Encode builds the Huffman tables
// of a big image from, and Estimate should sample: two dozen rows predict
// a photo's size within about a per cent.
const SampledRows = 24

// zigzag maps a natural index (row*8 + column) to its zig-zag index, the
// inverse of dct.Unzig.
var zigzag = func() (z [64]uint8) {
	for i, n := range dct.Unzig {
		z[n] = uint8(i)
	}
	return z
}()

// KeepTables returns output quantisation equal to the source's, each step
// moved with its coefficient (transposed when the orientation transposes):
// every coefficient is then copied as it is (ratio 1, so the transcode's
// rounding is the identity) and the transcode only moves blocks and flips
// signs. It fails (wrapping ErrNoTranscode) when a source step does not
// fit a baseline table's byte.
func (t *Transcoder) KeepTables() (*Tables, error) {
	tt := &Tables{kept: true}
	for i, c := range t.comps {
		var out [64]uint8
		for k := range 64 {
			qs := c.src.Quant[t.zig[k]]
			if qs == 0 || qs > 255 {
				return nil, fmt.Errorf("%w: source quantisation step %d does not fit a baseline table", ErrNoTranscode, qs)
			}
			out[k] = uint8(qs)
			tt.ratio[i][k] = 1 << 32
		}
		tt.use(i, out)
	}
	return tt, nil
}
