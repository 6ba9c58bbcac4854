package encode

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gpdoc/gpdoc/internal/workers"
)

// Component is one component of a [Frame].
type Component struct {
	// H and V are the sampling factors (1 and 1 when the frame has one
	// component).
	H, V int
	// Quant is the index in Frame.Quant of the component's table.
	Quant uint8
	// DC and AC are the component's Huffman tables: [LumaDC] and [LumaAC],
	// or [ChromaDC] and [ChromaAC].
	DC, AC uint32
}

// Frame describes a baseline JPEG to write: one interleaved scan of its
// components (or one block per MCU for a single component), 8-bit
// samples.
type Frame struct {
	Width, Height int
	// Components are Y, Cb, Cr, or one grey component.
	Components []Component
	// Quant are the quantisation tables, in zig-zag order.
	Quant [][64]uint8
}

// ErrFrame reports a Frame a baseline JPEG cannot hold.
var ErrFrame = errors.New("encode: invalid frame")

func (f *Frame) check() error {
	if f.Width <= 0 || f.Height <= 0 || f.Width > 0xFFFF || f.Height > 0xFFFF {
		return fmt.Errorf("%w: %dx%d pixels (1 to 65535 each way)", ErrFrame, f.Width, f.Height)
	}
	if n := len(f.Components); n != 1 && n != 3 {
		return fmt.Errorf("%w: %d components (1 or 3)", ErrFrame, n)
	}
	for i, c := range f.Components {
		if c.H < 1 || c.H > 4 || c.V < 1 || c.V > 4 || int(c.Quant) >= len(f.Quant) || c.DC > 3 || c.AC > 3 {
			return fmt.Errorf("%w: component %d %+v", ErrFrame, i, c)
		}
	}
	return nil
}

// MCUs returns the MCU grid: blocks when the frame has one component.
func (f *Frame) MCUs() (wide, high int) {
	if len(f.Components) == 1 {
		return (f.Width + 7) / 8, (f.Height + 7) / 8
	}
	hmax, vmax := 1, 1
	for _, c := range f.Components {
		hmax, vmax = max(hmax, c.H), max(vmax, c.V)
	}
	return (f.Width + 8*hmax - 1) / (8 * hmax), (f.Height + 8*vmax - 1) / (8 * vmax)
}

func (f *Frame) used() [4]bool {
	var used [4]bool
	for _, c := range f.Components {
		used[c.DC], used[c.AC] = true, true
	}
	return used
}

// AppendHeader appends SOI, one DQT segment with every table, SOF0, the
// DHT segment dht, a DRI segment when restart > 0, and the SOS header.
// There is no JFIF APP0, as in image/jpeg's output: component ids 1, 2
// and 3 tell every decoder (libjpeg, image/jpeg) that the components are
// YCbCr.
func (f *Frame) AppendHeader(out []byte, dht []byte, restart int) []byte {
	be := binary.BigEndian
	out = append(out, 0xFF, 0xD8)
	out = append(out, 0xFF, 0xDB)
	out = be.AppendUint16(out, uint16(2+65*len(f.Quant)))
	for id, q := range f.Quant {
		out = append(out, byte(id))
		out = append(out, q[:]...)
	}
	out = append(out, 0xFF, 0xC0)
	out = be.AppendUint16(out, uint16(8+3*len(f.Components)))
	out = append(out, 8)
	out = be.AppendUint16(out, uint16(f.Height))
	out = be.AppendUint16(out, uint16(f.Width))
	out = append(out, byte(len(f.Components)))
	for i, c := range f.Components {
		out = append(out, byte(i+1), byte(c.H<<4|c.V), c.Quant)
	}
	out = append(out, dht...)
	if restart > 0 {
		out = append(out, 0xFF, 0xDD, 0, 4, byte(restart>>8), byte(restart))
	}
	out = append(out, 0xFF, 0xDA)
	out = be.AppendUint16(out, uint16(6+2*len(f.Components)))
	out = append(out, byte(len(f.Components)))
	for i, c := range f.Components {
		out = append(out, byte(i+1), byte(c.DC/2<<4|c.AC/2))
	}
	return append(out, 0, 63, 0)
}

// RowFunc appends the symbols (see [AppendBlock]) of MCU row my to syms,
// in scan order. pred holds the components' DC predictions, carried from
// the previous row of the same strip (all 0 at a strip's first row).
// It is called from several goroutines at once, for different rows.
type RowFunc func(syms []uint32, my int, pred *[3]int32) ([]uint32, error)

// Strip layout: at most maxStrips strips, of at least minStripMCUs MCUs
// each, so that the layout, and so the output, depends on the image only
// (never on the number of CPUs), while a big image still splits into
// enough strips to keep every CPU busy.
const (
	maxStrips    = 16
	minStripMCUs = 2048
)

// stripLayout cuts rows MCU rows of perRow MCUs each into n strips of
// stripRows rows (the last may be shorter), never more MCUs per strip than
// a restart interval holds (16 bits).
func stripLayout(rows, perRow int) (stripRows, n int) {
	stripRows = max((rows+maxStrips-1)/maxStrips, (minStripMCUs+perRow-1)/perRow)
	stripRows = max(1, min(stripRows, rows, 0xFFFF/perRow))
	return stripRows, (rows + stripRows - 1) / stripRows
}

// Encode writes f, whose MCU rows row produces, as a baseline JPEG with
// optimal Huffman tables. The rows are coded in strips, in parallel
// (under the process-wide worker limit, package workers), joined with
// restart markers: one pass counts the symbols for one set of tables,
// the second writes the bits. When keep is true the first pass's symbols
// are kept for the second (4 bytes a symbol, for when row is costly);
// otherwise row runs twice per row.
func Encode(ctx context.Context, f *Frame, row RowFunc, keep bool) ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	perRow, rows := f.MCUs()
	stripRows, n := stripLayout(rows, perRow)
	type strip struct {
		freq  Counts
		extra int // extra bits after the codes
		syms  []uint32
		out   []byte
	}
	strips := make([]strip, n)
	rowsOf := func(i int) (int, int) { return i * stripRows, min(rows, (i+1)*stripRows) }
	bufs := make([][]uint32, workers.N(n))
	// Pass 1: symbol counts.
	err := workers.ForEach(ctx, n, func(w, i int) error {
		s := &strips[i]
		r0, r1 := rowsOf(i)
		pred := [3]int32{}
		for my := r0; my < r1; my++ {
			buf := bufs[w][:0]
			if keep {
				buf = s.syms
			}
			start := len(buf)
			buf, err := row(buf, my, &pred)
			if keep {
				if my == r0 {
					// Size the strip's symbols from its first row, so that
					// appending leaves no large garbage behind.
					if want := len(buf) * (r1 - r0) * 9 / 8; cap(buf) < want {
						buf = append(make([]uint32, 0, want), buf...)
					}
				}
				s.syms = buf
			} else {
				bufs[w] = buf
			}
			if err != nil {
				return err
			}
			s.freq.Add(buf[start:])
			for _, v := range buf[start:] {
				s.extra += int(v>>16) & 0xF
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var freq Counts
	for i := range strips {
		freq.Merge(&strips[i].freq)
	}
	codes, dht := freq.Tables(f.used())
	// Pass 2: the bits.
	err = workers.ForEach(ctx, n, func(w, i int) error {
		s := &strips[i]
		bytes := (codes.Bits(&s.freq) + s.extra + 7) / 8
		bw := bitWriter{out: make([]byte, 0, bytes+bytes/128+16)} // with room for stuffed zeros
		if keep {
			bw.symbols(s.syms, codes)
			s.syms = nil
		} else {
			r0, r1 := rowsOf(i)
			pred := [3]int32{}
			for my := r0; my < r1; my++ {
				var err error
				if bufs[w], err = row(bufs[w][:0], my, &pred); err != nil {
					return err
				}
				bw.symbols(bufs[w], codes)
			}
		}
		bw.flush()
		s.out = bw.out
		return nil
	})
	if err != nil {
		return nil, err
	}
	restart := 0 // one strip: no restart markers
	if n > 1 {
		restart = stripRows * perRow
	}
	header := f.AppendHeader(nil, dht, restart)
	size := len(header) + 2
	for i := range strips {
		size += len(strips[i].out) + 2
	}
	out := append(make([]byte, 0, size), header...)
	for i := range strips {
		if i > 0 {
			out = append(out, 0xFF, 0xD0+byte((i-1)%8))
		}
		out = append(out, strips[i].out...)
		strips[i].out = nil
	}
	return append(out, 0xFF, 0xD9), nil
}

// Estimate predicts the size of Encode's output for f from every step-th
// MCU row (a sample: the rows' symbol counts, scaled to the whole image,
// priced with the optimal code lengths they imply; within about a per
// cent for a photo sampled at two dozen rows).
func Estimate(ctx context.Context, f *Frame, row RowFunc, step int) (float64, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	_, rows := f.MCUs()
	step = max(1, step)
	var sample []int
	for my := step / 2; my < rows; my += step {
		sample = append(sample, my)
	}
	if len(sample) == 0 {
		sample = append(sample, 0)
	}
	counts := make([]Counts, len(sample))
	extras := make([]int, len(sample))
	bufs := make([][]uint32, workers.N(len(sample)))
	err := workers.ForEach(ctx, len(sample), func(w, i int) error {
		pred := [3]int32{}
		syms, err := row(bufs[w][:0], sample[i], &pred)
		bufs[w] = syms
		counts[i].Add(syms)
		for _, s := range syms {
			extras[i] += int(s>>16) & 0xF
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	var freq Counts
	bits := 0
	for i := range counts {
		freq.Merge(&counts[i])
		bits += extras[i]
	}
	codes, dht := freq.Tables(f.used())
	bits += codes.Bits(&freq)
	// 0xFF bytes in the entropy-coded data are followed by a stuffed zero:
	// about one byte in 256 of well-mixed data.
	scale := float64(rows) / float64(len(sample))
	body := float64(bits) / 8 * scale * (1 + 1.0/256)
	header := len(f.AppendHeader(nil, dht, 1)) + 2 // with a DRI, and EOI
	return body + float64(header), nil
}
