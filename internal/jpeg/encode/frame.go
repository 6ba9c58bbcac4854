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

// RowFunc codes MCU row my: it gives w each block of the row, in scan
// order (w.Block). Each strip of rows has its own BlockWriter, which
// carries the DC predictions from row to row. It is called from several
// goroutines at once, for different rows.
type RowFunc func(w *BlockWriter, my int) error

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
	strips := make([]strip, n)
	rowsOf := func(i int) (int, int) { return i * stripRows, min(rows, (i+1)*stripRows) }
	// Pass 1: symbol counts (and the symbols, when kept).
	err := workers.ForEach(ctx, n, func(_, i int) error {
		s := &strips[i]
		r0, r1 := rowsOf(i)
		w := BlockWriter{mode: countSymbols, freq: &s.freq}
		if keep {
			w.mode = keepSymbols
		}
		for my := r0; my < r1; my++ {
			if err := row(&w, my); err != nil {
				return err
			}
			if keep && my == r0 {
				// Size the strip's symbols from its first row, so that
				// growing leaves no large garbage behind.
				w.reserve(w.nsyms * (r1 - r0) * 9 / 8)
			}
		}
		s.syms, s.extra = w.kept(), w.extra
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
	for i := range strips {
		s := &strips[i]
		s.bytes = (codes.Bits(&s.freq) + s.extra + 7) / 8
	}
	return writeStrips(ctx, f, row, codes, dht, strips, stripRows)
}

// EncodeSampled writes f as Encode does, but produces each row once: the
// Huffman tables are built from every step-th MCU row (the rows Estimate
// samples, counted in proportion to the whole image), with every symbol
// a baseline table can hold given a code, so that a symbol no sampled
// row has can still be written. The tables are then near-optimal rather
// than optimal: for a photo sampled at two dozen rows the output is a
// fraction of a per cent larger than Encode's, for about half the work
// when row is costly and not kept. The output depends only on f, row and
// step. step <= 1 is Encode's exact two passes.
func EncodeSampled(ctx context.Context, f *Frame, row RowFunc, step int) ([]byte, error) {
	if step <= 1 {
		return Encode(ctx, f, row, false)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	perRow, rows := f.MCUs()
	freq, extra, sampled, err := sampleCounts(ctx, f, row, step)
	if err != nil {
		return nil, err
	}
	used := f.used()
	var scaled Counts
	for t := range freq {
		if !used[t] {
			continue
		}
		for s := range 256 {
			scaled[t][s] = freq[t][s] * rows / sampled
			if codable(t, s) {
				scaled[t][s]++
			}
		}
	}
	codes, dht := scaled.Tables(used)
	// Room for the bits, from the sample: a strip whose rows code longer
	// than the sample's average grows its buffer.
	rowBytes := (codes.Bits(&freq) + extra) / 8 / sampled
	stripRows, n := stripLayout(rows, perRow)
	strips := make([]strip, n)
	for i := range strips {
		strips[i].bytes = rowBytes * (min(rows, (i+1)*stripRows) - i*stripRows) * 9 / 8
	}
	return writeStrips(ctx, f, row, codes, dht, strips, stripRows)
}

// codable reports whether symbol s can appear in Huffman table t of a
// baseline JPEG with 8-bit samples: a DC size category up to 11, or an AC
// run/size byte with a size of 1 to 10, EOB (0x00) or ZRL (0xF0).
func codable(t, s int) bool {
	if t == LumaDC || t == ChromaDC {
		return s <= 11
	}
	size := s & 0xF
	return s == 0x00 || s == 0xF0 || (size >= 1 && size <= 10)
}

// strip is one restart interval of Encode's output.
type strip struct {
	freq  Counts
	extra int // extra bits after the codes
	bytes int // the entropy-coded bytes expected, without stuffing
	syms  []uint32
	out   []byte
}

// writeStrips writes each strip's bits with codes (its kept symbols, or
// its rows produced again), in parallel, and joins them after the
// header, with restart markers between them.
func writeStrips(ctx context.Context, f *Frame, row RowFunc, codes *Codes, dht []byte, strips []strip, stripRows int) ([]byte, error) {
	perRow, rows := f.MCUs()
	err := workers.ForEach(ctx, len(strips), func(_, i int) error {
		s := &strips[i]
		bw := newBitWriter(s.bytes + s.bytes/128 + 16) // with room for stuffed zeros
		if s.syms != nil {
			bw.symbols(s.syms, codes)
			s.syms = nil
		} else {
			w := BlockWriter{mode: writeBits, bits: bw, codes: codes}
			for my := i * stripRows; my < min(rows, (i+1)*stripRows); my++ {
				if err := row(&w, my); err != nil {
					return err
				}
			}
		}
		bw.flush()
		s.out = bw.bytes()
		return nil
	})
	if err != nil {
		return nil, err
	}
	restart := 0 // one strip: no restart markers
	if len(strips) > 1 {
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

// sampleCounts counts the symbols of every step-th MCU row of f, the
// first at step/2, and their extra bits; sampled is the number of rows.
func sampleCounts(ctx context.Context, f *Frame, row RowFunc, step int) (freq Counts, extra, sampled int, err error) {
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
	err = workers.ForEach(ctx, len(sample), func(_, i int) error {
		w := BlockWriter{mode: countSymbols, freq: &counts[i]}
		err := row(&w, sample[i])
		extras[i] = w.extra
		return err
	})
	if err != nil {
		return freq, 0, 0, err
	}
	for i := range counts {
		freq.Merge(&counts[i])
		extra += extras[i]
	}
	return freq, extra, len(sample), nil
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
	freq, extra, sampled, err := sampleCounts(ctx, f, row, step)
	if err != nil {
		return 0, err
	}
	codes, dht := freq.Tables(f.used())
	bits := extra + codes.Bits(&freq)
	// 0xFF bytes in the entropy-coded data are followed by a stuffed zero:
	// about one byte in 256 of well-mixed data.
	scale := float64(rows) / float64(sampled)
	body := float64(bits) / 8 * scale * (1 + 1.0/256)
	header := len(f.AppendHeader(nil, dht, 1)) + 2 // with a DRI, and EOI
	return body + float64(header), nil
}
