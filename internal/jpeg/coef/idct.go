package coef

import "github.com/gpdoc/gpdoc/internal/jpeg/dct"

// The inverse DCT and zig-zag table are upstream's (internal/jpeg/dct), shared
// with the encoder.
type block = dct.Block

const blockSize = dct.BlockSize

var unzig = dct.Unzig

func idct(b *block) { dct.IDCT(b) }
