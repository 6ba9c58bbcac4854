// Package encode is gpdoc's one JPEG entropy encoder: it writes baseline
// JPEGs from quantised DCT coefficients with optimal Huffman tables, for
// both of downsample's paths.
//
// A caller describes the output as a [Frame] (size, components, sampling,
// quantisation tables) and gives its MCU rows, block by block, to a
// [BlockWriter], from a [RowFunc]. [Encode] codes the rows in strips, in
// parallel under the process-wide worker limit (internal/workers), twice:
// once to count the symbols, from which one set of optimal Huffman tables
// is built (Annex K.2 of the JPEG standard, as libjpeg's optimize_coding
// and jpegtran -optimize), and once to write the bits. [EncodeSampled]
// builds the tables from a sample of rows instead (every symbol given a
// code) and codes each row once: near-optimal tables for about half the
// work. The strips are joined with restart markers, which reset the DC
// predictions exactly as a fresh encode does, so the result is a standard
// baseline JPEG any decoder reads. The strip layout depends on the image
// only, never on the number of CPUs, so the same input gives the same
// bytes. [Estimate] predicts Encode's output size from a sample of rows.
//
// Two front ends use it. downsample's transcoder re-quantises a JPEG's
// coefficients (read by internal/jpeg/coef) in the DCT domain. For pixels,
// [EncodeImage] is image/jpeg's encoder front end (colour conversion, 4:2:0
// subsampling, forward DCT, quantisation at a real-valued IJG quality,
// [QuantTables]) handing its blocks to the same encoder: its coefficients
// are exactly image/jpeg's, and the output is typically 5 to 10 per cent
// smaller for the optimal tables.
//
// pixels.go and quant.go are forked from image/jpeg's writer.go (BSD
// licence in LICENSE); README.md records the Go release, and
// internal/jpeg/upstream's test fails when upstream's file changes.
package encode
