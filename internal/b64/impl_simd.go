//go:build (amd64 || arm64) && !purego

package b64

import asm "github.com/segmentio/asm/base64"

const implementation = "segmentio/asm"

// encode writes the encoding of src into dst, len(dst) == EncodedLen(len(src)).
func encode(dst, src []byte) { asm.StdEncoding.Encode(dst, src) }
