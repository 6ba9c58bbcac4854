package conneqt

// Caps on the source files gpdoc reads (the files a manifest names), before
// any stage runs. A file is read only when the downsample stage could still
// bring it under the route's limit, and never more than these:
//
//   - JPEG and PNG: [MaxImageSourceBytes], 100 MiB. The pixel budget
//     ([DefaultMaxPixels], 100 MP) bounds what downsampling accepts: a
//     100 MP JPEG is 20–60 MB, and a 100 MP PNG of a scanned page (mostly
//     paper) is a fraction of 100 MiB. Only a photographic PNG near the
//     pixel budget can be larger; it is refused with its size in the
//     problem.
//   - PDF: [MaxPDFSourceBytes], 64 MiB. Downsampling a PDF only re-encodes
//     its images; a scanned letter of a few dozen pages at 300 dpi is well
//     under this.
//   - Every other type (text, the consultation type): the route's own limit,
//     [Route.MaxAttachmentBytes]: nothing in gpdoc makes them smaller; on a
//     route with no limit, [MaxOtherSourceBytes].
const (
	MaxImageSourceBytes = 100 << 20
	MaxPDFSourceBytes   = 64 << 20
	MaxOtherSourceBytes = 64 << 20
)

// Reducible reports whether gpdoc can make a file of type mime smaller
// (the downsample stage fits JPEGs, PNGs and PDFs); nothing else shrinks.
func Reducible(mime string) bool {
	return mime == MIMEJPEG || mime == MIMEPNG || mime == MIMEPDF
}

// MaxSourceBytes returns the largest source file gpdoc reads for an
// attachment of type mime on this route: the cap for its type (see
// [MaxImageSourceBytes]), never less than the route's own limit.
func (r *Route) MaxSourceBytes(mime string) int64 {
	switch mime {
	case MIMEJPEG, MIMEPNG:
		return max(MaxImageSourceBytes, r.MaxAttachmentBytes)
	case MIMEPDF:
		return max(MaxPDFSourceBytes, r.MaxAttachmentBytes)
	}
	if r.MaxAttachmentBytes <= 0 {
		return MaxOtherSourceBytes // no limit on the route: still a bounded read
	}
	return r.MaxAttachmentBytes
}
