// Package downsample fits images and PDFs under a byte budget: the
// "downsample" stage of the gpdoc pipeline, and a pure core ([Fitter],
// [FitJPEG], [FitPNG], [FitPDF]) usable without the pipeline.
//
// # JPEG
//
// A JPEG is decoded once (after [image.DecodeConfig] has checked its pixel
// count against [Options.MaxPixels]) and re-encoded in as few full-size
// encodes as possible, usually one. Sizes are predicted by encoding a small
// mosaic of tiles sampled across the image (about a third of a megapixel;
// at full size the tiles are MCU-aligned copies of the decoded YCbCr
// planes, so they re-quantise like the image), which costs a few
// milliseconds per quality tried; quality is searched on the mosaic by
// interpolation on the log-size curve, and the image is scaled only when
// the quality would fall below [Options.MinQuality].
//
// Full-size encodes use image/jpeg on horizontal strips in parallel,
// joined with restart markers, and are then rewritten losslessly with
// optimal Huffman tables (image/jpeg always uses the standard's example
// tables); both steps leave the decoded pixels unchanged. The long
// edge never falls below [Options.MinLongEdge]: if the image cannot fit
// there, the result is an error wrapping [ErrCannotFit] that names the
// size reached. EXIF orientation is honoured: the image is resized in its
// stored orientation and the (smaller) result is then turned upright, so
// no full-size rotated copy is ever made.
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
// # Memory
//
// A [Fitter] decodes at most [Options.MaxConcurrentDecodes] images at once.
// Peak heap for one 24 MP photo is measured by TestPeakMemory24MP and
// reported by the benchmarks in ../../benchmarks.
package downsample
