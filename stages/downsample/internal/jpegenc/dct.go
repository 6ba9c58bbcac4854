package jpegenc

import "github.com/gpdoc/gpdoc/internal/jpeg/dct"

// The DCT and zig-zag table are upstream's, shared with jpegcoef.
type block = dct.Block

const blockSize = dct.BlockSize

var unzig = dct.Unzig

func fdct(b *block) { dct.FDCT(b) }
