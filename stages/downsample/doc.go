// Package downsample fits images and PDFs under a byte budget: the
// "downsample" stage of the gpdoc pipeline, and a pure core ([Fitter],
// [FitJPEG], [FitPNG], [FitPDF]) usable without the pipeline.
//
// # JPEG
//
// The header is checked first ([image.DecodeConfig], against
// [Options.MaxPixels]); then the JPEG's quantised DCT coefficients are read
// (internal/jpeg/coef, image/jpeg's decoder keeping the coefficients). The
// JPEG codec lives under internal/jpeg: one marker walker (segment), one
// entropy decoder (coef), one entropy encoder (encode), the DCT (dct).
//
// Transcode first. Most over-size photos fit at full size once their
// coefficients are re-quantised more coarsely, and that needs no pixels:
// each coefficient c becomes round(c*qs/qd), where qs is the source's step
// and qd the output's (the IJG table at the chosen quality, but never finer
// than qs: a finer step spends bits and restores nothing). Exact halves
// round to zero, which costs the same error and fewer bits. EXIF orientation
// is applied in the DCT domain, exactly (blocks move, coefficients transpose
// or change sign), when each axis it mirrors is a whole number of MCUs. There is no
// inverse DCT, colour conversion, chroma resampling or forward DCT, so the
// output keeps the source's chroma subsampling, loses nothing but the
// coarser quantisation, and costs a fraction of a decode and encode. Sizes
// are predicted from the symbol counts of about 24 MCU rows spread over the
// image, priced with the optimal Huffman code lengths they imply (within a
// per cent of the full encode); quality is searched in tenths by regula falsi
// on log(size). The re-quantised blocks are entropy-coded by
// internal/jpeg/encode: in strips, in parallel, joined with restart
// markers, coded once with Huffman tables built from the same sampled rows
// (every symbol given a code; a fraction of a per cent over optimal tables,
// for about half the work of counting every row first).
//
// Pixels when needed. If even [Options.MinQuality] does not fit, or the
// image cannot be transcoded (RGB or CMYK JPEGs, an orientation that mirrors
// an axis that is not whole MCUs), the coefficients are reconstructed to image/jpeg's
// pixels, written upright. Quality, then scale, are searched
// on a small mosaic of tiles sampled across it (about a third of a megapixel)
// encoded at each candidate; the image is scaled only when the quality
// would fall below [Options.MinQuality]. Encodes use image/jpeg's
// coefficients (colour conversion, 4:2:0, forward DCT, quantisation at a
// real quality) and the transcoder's entropy encoder (encode.EncodeImage).
// The long edge never falls below
// [Options.MinLongEdge]: if the image cannot fit there, the result is an
// error wrapping [ErrCannotFit] that names the size reached.
//
// # Turning upright
//
// Every JPEG that leaves the stage is upright in its pixels, with no EXIF:
// not every GP document viewer honours the EXIF orientation. A JPEG within
// the limit stored with orientation 2 to 8 is turned (and nothing else):
// losslessly, by the transcoder with the source's own quantisation tables
// (blocks moved, every step kept), when each axis the orientation mirrors
// is a whole number of MCUs; otherwise its pixels are decoded upright and
// re-encoded at no less than its estimated quality ([SourceQuality]). Its
// ICC profile is kept. If the upright JPEG would be over the limit, the
// source is fitted instead, once. A fitted JPEG keeps the ICC profile too
// (not a CMYK image's): the fit aims at the limit less its size, and one
// of a tenth of the limit or more is dropped. [Report.OnlyTurned], [Report.Lossless]
// and [Report.LossyReason] say what happened; the stage reports it as a
// "turned upright" change.
//
// # PNG
//
// Lossless first: re-encoding with [png.BestCompression] and, when the
// image has at most 256 colours, as a palette image. If that is still over
// the budget, or the route does not accept PNG, the image is converted to
// JPEG; transparent pixels are flattened on white, and the report says so.
//
// # PDF
//
// pdfcpu's optimiser runs first (it removes duplicate objects). If the file
// is still over the budget, its DCT- and Flate-encoded image XObjects are
// decoded, resampled and re-encoded as JPEG with the image code above, and
// put back in place in pdfcpu's cross-reference table. Pages, content
// streams and text are never touched.
//
// A PDF fit is bounded: its non-image streams are measured first (inflated
// into a counter) and a PDF over [Options.MaxPDFDecodeBytes] is refused;
// pdfcpu's unused-resource removal, which parses every page's content, is
// skipped when that content sums to more than 32 MiB over the pages; and
// the fit runs within [Options.PDFTimeout]. pdfcpu takes no context, so
// its steps run in a goroutine that is abandoned when ctx ends.
//
// # Memory
//
// A [Fitter] decodes at most [Options.MaxConcurrentDecodes] images at once,
// and every decode first reserves the bytes of its decoded form from the
// decode budget ([Options.DecodeBudget], by default the one the whole
// process shares, internal/budget): more than the whole budget is an error
// wrapping [ErrOverBudget], which the stage reports as a problem.
//
// The work inside one image (strips, resampling bands, pixel
// reconstruction) runs under one process-wide worker limit
// (internal/workers, GOMAXPROCS by default) and stops when the context is
// cancelled.
// Peak heap for one 24 MP photo is measured by TestPeakMemory24MP and
// reported by the benchmarks in ../../benchmarks.
package downsample
