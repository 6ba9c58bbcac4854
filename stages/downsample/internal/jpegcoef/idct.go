package jpegcoef

import "github.com/gpdoc/gpdoc/stages/downsample/internal/jpegdct"

// The inverse DCT and zig-zag table are upstream's, shared with jpegenc.
type block = jpegdct.Block

const blockSize = jpegdct.BlockSize

var unzig = jpegdct.Unzig

func idct(b *block) { jpegdct.IDCT(b) }
