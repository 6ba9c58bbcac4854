// Copyright 2011 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// This file holds the IJG quality scale of image/jpeg's writer.go (Go
// 1.26; see README.md): unscaledQuant is upstream's, QuantTables is
// upstream's table scaling taking a real quality, and Quality inverts it.

package encode

import "math"

// unscaledQuant are the unscaled quantization tables in zig-zag order. Each
// encoder copies and scales the tables according to its quality parameter.
// The values are derived from section K.1 of the spec, after converting from
// natural to zig-zag order.
var unscaledQuant = [2][64]byte{
	// Luminance.
	{
		16, 11, 12, 14, 12, 10, 16, 14,
		13, 14, 18, 17, 16, 19, 24, 40,
		26, 24, 22, 22, 24, 49, 35, 37,
		29, 40, 58, 51, 61, 60, 57, 51,
		56, 55, 64, 72, 92, 78, 64, 68,
		87, 69, 55, 56, 80, 109, 81, 87,
		95, 98, 103, 104, 103, 62, 77, 113,
		121, 112, 100, 120, 92, 101, 103, 99,
	},
	// Chrominance.
	{
		17, 18, 18, 24, 21, 24, 47, 26,
		26, 47, 99, 66, 56, 66, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
		99, 99, 99, 99, 99, 99, 99, 99,
	},
}

// QuantTables returns the luminance and chrominance quantisation tables,
// in zig-zag order, at quality (clamped to 1..100), a real number on
// image/jpeg's (IJG's) scale: the tables of Annex K.1 scaled by 200-2q
// (q >= 50) or 5000/q per cent, so that an integer quality gives exactly
// image/jpeg's tables and fractions fall between its steps, which are up
// to 10 per cent apart in size.
func QuantTables(quality float64) (quant [2][64]byte) {
	quality = min(max(quality, 1), 100)
	// Convert from a quality rating to a scaling factor.
	var scale float64
	if quality < 50 {
		scale = 5000 / quality
		if quality == math.Trunc(quality) {
			scale = math.Trunc(scale) // image/jpeg divides integers
		}
	} else {
		scale = 200 - quality*2
	}
	// Initialize the quantization tables.
	for i := range quant {
		for j := range quant[i] {
			x := int(math.Floor((float64(unscaledQuant[i][j])*scale + 50) / 100))
			quant[i][j] = uint8(min(max(x, 1), 255))
		}
	}
	return quant
}

// Quality estimates the IJG quality (1..100) of a luminance quantisation
// table in zig-zag order (as a DQT segment stores it), from the mean
// ratio of its steps to Annex K.1's: the inverse of QuantTables.
func Quality(luma *[64]uint16) int {
	sum := 0.0
	for i, q := range luma {
		sum += float64(q) * 100 / float64(unscaledQuant[0][i])
	}
	scale := sum / 64
	var q float64
	if scale <= 100 {
		q = (200 - scale) / 2
	} else {
		q = 5000 / scale
	}
	return min(max(int(q+0.5), 1), 100)
}
