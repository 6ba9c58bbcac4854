package jpegenc

import "github.com/gpdoc/gpdoc/stages/downsample/internal/jpegdct"

// The DCT and zig-zag table are upstream's, shared with jpegcoef.
type block = jpegdct.Block

const blockSize = jpegdct.BlockSize

var unzig = jpegdct.Unzig

func fdct(b *block) { jpegdct.FDCT(b) }
