package transport

import (
	"bytes"
	"io"
)

// BytesPayload is a pipeline.Payload held in memory: the assembled JSON
// bytes of a message.
type BytesPayload []byte

// Size returns len(p).
func (p BytesPayload) Size() int64 { return int64(len(p)) }

// NewReader returns a new reader over p.
func (p BytesPayload) NewReader() io.Reader { return bytes.NewReader(p) }
