//go:build !(amd64 || arm64) || purego

package b64

import "encoding/base64"

const implementation = "encoding/base64"

// encode writes the encoding of src into dst, len(dst) == EncodedLen(len(src)).
func encode(dst, src []byte) { base64.StdEncoding.Encode(dst, src) }
