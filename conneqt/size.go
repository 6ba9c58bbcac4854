package conneqt

import (
	"fmt"

	"github.com/gpdoc/gpdoc/internal/b64"
)

// CheckAttachmentSize is gpdoc's one size gate: it returns the problem for
// attachment i of n decoded bytes on r, and false, when n is over
// r.MaxDecodedBytes() (the limit under the route's basis,
// docs/spec.md#size-limit); else it returns true. It never looks at the bytes:
// the Base64 size follows from n exactly (4*ceil(n/3)). The size-gate
// stage runs it on every attachment once downsample has fitted what it can,
// and validate.CheckMessage (the simulator's check) on a wire message.
//
// The message names the field, the size, the route's limit under its basis
// (DescribeLimit: "5000000 bytes", or "5000000 bytes of Base64 (3750000
// decoded bytes)") and the largest file that would pass.
func (r *Route) CheckAttachmentSize(i int, n int64) (Problem, bool) {
	limit := r.MaxDecodedBytes()
	if limit <= 0 || n <= limit {
		return Problem{}, true
	}
	return Problem{
		Name: AttachmentField(i, "content"),
		Reason: fmt.Sprintf("too large: %d bytes (%d in Base64), more than the %s the %s route accepts per attachment; send at most %d bytes (a smaller file, or an image or PDF gpdoc can downsample)",
			n, b64.EncodedLen(n), r.DescribeLimit(), r.Name, limit),
	}, false
}
