// Package coef reads a JPEG's quantised DCT coefficients without
// turning them into pixels, so that the image can be re-quantised,
// re-oriented and re-encoded in the DCT domain (a transcode: no inverse
// DCT, colour conversion or forward DCT, and none of their rounding).
//
// It is the codec's one entropy decoder: image/jpeg's decoder (Go 1.26:
// reader.go, scan.go, huffman.go, and the inverse DCT shared with the
// encoder in internal/jpeg/dct; BSD licence in LICENSE; README.md records
// the release and the upstream check) with one change in what it does: every block's coefficients are kept, in zig-zag order, as
// image/jpeg already does for progressive images, instead of being
// reconstructed as they are read. It therefore accepts exactly what
// image/jpeg accepts (baseline, extended and progressive Huffman JPEGs,
// 8-bit, 1, 3 or 4 components).and [Image.Pixels] gives image/jpeg's
// pixels.
//
// How it does it is faster (about 2.7 times on a big baseline photo, 1.25
// times on a big progressive one, and since issue 14 about 1.5 times again
// on a big baseline photo): it reads from the input slice rather than an
// io.Reader, through a 64-bit bit accumulator filled several bytes at a
// time, with 11-bit Huffman look-up tables (and, for AC tables, one that
// resolves a code together with its coefficient's value, or two codes and
// their values when both fit in the 11 bits, or an end of band), and a
// fast path for the blocks of sequential scans and first progressive
// scans. Each changed function says how it differs from image/jpeg's and
// why the results are the same; the tests compare the fast paths'
// coefficients and errors with image/jpeg's way of reading the tables
// (decoder.exact) and the pixels with image/jpeg's.
package coef

import (
	"errors"
)

// Block is one 8x8 block of quantised DCT coefficients in zig-zag order
// (the order of a DQT segment): Block[0] is the DC coefficient.
type Block [blockSize]int16

// Component is one colour component's coefficients.
type Component struct {
	// ID is the component identifier of the frame header.
	ID byte
	// H and V are the sampling factors (1 and 1 for a grey image, whose
	// single component is never interleaved).
	H, V int
	// Quant is the component's quantisation table, in zig-zag order. Its
	// entries are 0 when the image never defined the table (image/jpeg
	// then decodes the component as flat grey).
	Quant [blockSize]uint16
	// BlocksWide and BlocksHigh are the stored grid of blocks: the image
	// padded to whole MCUs. Blocks outside the image carry whatever the
	// encoder put there (zero for blocks a progressive image never coded).
	BlocksWide, BlocksHigh int
	// Blocks holds BlocksWide x BlocksHigh blocks, row by row.
	Blocks []Block
}

// Block returns the block at column bx and row by of the grid.
func (c *Component) Block(bx, by int) *Block { return &c.Blocks[by*c.BlocksWide+bx] }

// Image is a decoded JPEG's coefficients.
type Image struct {
	// Width and Height are the image's size in pixels.
	Width, Height int
	// Components are the frame's components in order: Y, Cb, Cr for a
	// colour image.
	Components []Component
	// MCUsWide and MCUsHigh are the MCU grid of an interleaved scan.
	MCUsWide, MCUsHigh int
	// Progressive is true for a progressive (SOF2) image.
	Progressive bool
	// RGB is true when a 3-component image holds RGB rather than YCbCr
	// (an Adobe transform of 0 or component identifiers 'R', 'G', 'B'), as
	// image/jpeg decides.
	RGB bool
	// Adobe is true when the image has an Adobe APP14 segment.
	Adobe bool
}

// maxBlocks bounds one component's blocks (128 bytes each). Callers check
// the declared pixel count against their own budget before decoding;
// this only keeps a hostile header from overflowing.
const maxBlocks = 1 << 24

// ErrMissingCoefficients reports a component that no scan coded.
var ErrMissingCoefficients = errors.New("coef: a component has no coded coefficients")

// Decode reads the JPEG data and returns its coefficients. Errors are
// image/jpeg's FormatError and UnsupportedError, or
// ErrMissingCoefficients.
func Decode(data []byte) (*Image, error) {
	var d decoder
	if err := d.decode(data, false); err != nil {
		for _, c := range d.coeffs {
			giveBlocks(c)
		}
		return nil, err
	}
	h0, v0 := d.comp[0].h, d.comp[0].v
	m := &Image{
		Width: d.width, Height: d.height,
		MCUsWide:    (d.width + 8*h0 - 1) / (8 * h0),
		MCUsHigh:    (d.height + 8*v0 - 1) / (8 * v0),
		Progressive: d.progressive,
		Adobe:       d.adobeTransformValid,
		RGB:         d.nComp == 3 && d.isRGB(),
	}
	for i := range d.nComp {
		c := d.comp[i]
		if d.coeffs[i] == nil {
			for _, c := range d.coeffs {
				giveBlocks(c)
			}
			return nil, ErrMissingCoefficients
		}
		mc := Component{ID: c.c, H: c.h, V: c.v,
			BlocksWide: m.MCUsWide * c.h, BlocksHigh: m.MCUsHigh * c.v, Blocks: d.coeffs[i]}
		for k, q := range d.quant[c.tq] {
			mc.Quant[k] = uint16(q) // 0 when no table was given, as image/jpeg allows
		}
		m.Components = append(m.Components, mc)
	}
	return m, nil
}

// Check reads the whole JPEG as Decode does, entropy-coded data included,
// and returns the error image/jpeg's Decode would return for it, without
// keeping the coefficients or making any pixels: a check for damage at the
// cost of the entropy decode alone (no inverse DCT, colour conversion or
// pixel buffer). A sequential image's blocks are decoded one at a time
// into one scratch block; a progressive image's coefficients must be kept
// while it is read (its refinement scans depend on them), as Decode keeps
// them, 128 bytes a block: [CheckBytes].
//
// It accepts what image/jpeg accepts: a frame component that no scan codes
// is no error (image/jpeg leaves it flat, Decode returns
// ErrMissingCoefficients), and a 4-component image without an Adobe APP14
// segment is image/jpeg's UnsupportedError.
func Check(data []byte) error {
	d := decoder{checkOnly: true}
	defer func() {
		for _, c := range d.coeffs { // a progressive image's
			giveBlocks(c)
		}
	}()
	if err := d.decode(data, false); err != nil {
		return err
	}
	if d.nComp == 4 && !d.adobeTransformValid {
		return UnsupportedError("unknown color model: 4-component JPEG doesn't have Adobe APP14 metadata")
	}
	return nil
}

// CheckBytes returns about how many bytes Check holds for an image of
// width × height pixels: none for a sequential image (a few kilobytes of
// tables), its coefficients for a progressive one (128 bytes per block of
// every component, counted at the worst: four full-resolution components).
func CheckBytes(width, height int, progressive bool) int64 {
	if !progressive || width <= 0 || height <= 0 {
		return 0
	}
	// A component's grid is whole MCUs of up to 4 blocks a side: at most
	// width/8 + 5 blocks wide (and as high).
	blocks := int64(width/8+5) * int64(height/8+5)
	return maxComponents * blocks * blockSize * 2
}
