package conneqt

import (
	"fmt"

	"github.com/gpdoc/gpdoc/internal/b64"
)

// MaxDecodedBytes is the most decoded bytes (the file's own bytes, before
// Base64) one attachment may hold on r; 0 or less means no limit. The API
// pages say "5 MB" per attachment: gpdoc reads it as 5,000,000 decoded
// bytes (docs/spec.md#size-limit).
func (r *Route) MaxDecodedBytes() int64 { return r.MaxAttachmentBytes }

// CheckAttachmentSize is gpdoc's one size gate: it returns the problem for
// attachment i of n decoded bytes on r, and false, when n is over
// r.MaxDecodedBytes(); else it returns true. It never looks at the bytes:
// the Base64 size follows from n exactly (4*ceil(n/3)). The size-gate
// stage runs it on every attachment once downsample has fitted what it can,
// and validate.CheckMessage (the simulator's check) on a wire message.
func (r *Route) CheckAttachmentSize(i int, n int64) (Problem, bool) {
	limit := r.MaxDecodedBytes()
	if limit <= 0 || n <= limit {
		return Problem{}, true
	}
	return Problem{
		Name: AttachmentField(i, "content"),
		Reason: fmt.Sprintf("too large: %d bytes (%d in Base64), more than the %d bytes the %s route accepts per attachment; send at most %d bytes (a smaller file, or an image or PDF gpdoc can downsample)",
			n, b64.EncodedLen(n), limit, r.Name, limit),
	}, false
}
