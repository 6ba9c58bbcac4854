// Package orientation is the geometry of the EXIF Orientation tag (1 to 8):
// where a pixel of the upright image is stored, for the decoder that
// writes pixels upright (package coef) and the transcoder that moves
// blocks (package downsample).
package orientation

import "image"

// Transposes reports whether orientation o swaps width and height.
func Transposes(o int) bool { return o >= 5 && o <= 8 }

// Inverse returns the orientation that undoes o: 6 and 8 undo each other,
// every other orientation undoes itself.
func Inverse(o int) int {
	switch o {
	case 6:
		return 8
	case 8:
		return 6
	}
	return o
}

// Src maps a pixel (x, y) of the upright image to its position in a
// stored image of size w x h with orientation o. Its inverse, from stored
// to upright, is Src(Inverse(o), x, y, uw, uh), with uw x uh the upright
// size.
func Src(o, x, y, w, h int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// Ratio returns the chroma subsampling of a YCbCr image with ratio r once
// turned upright for o: 4:2:2 and 4:4:0 swap when o transposes. It is
// false for 4:1:1 and 4:1:0 under a transpose, which package image has no
// ratio for.
func Ratio(r image.YCbCrSubsampleRatio, o int) (image.YCbCrSubsampleRatio, bool) {
	if !Transposes(o) {
		return r, true
	}
	switch r {
	case image.YCbCrSubsampleRatio422:
		return image.YCbCrSubsampleRatio440, true
	case image.YCbCrSubsampleRatio440:
		return image.YCbCrSubsampleRatio422, true
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio420:
		return r, true
	}
	return r, false
}
