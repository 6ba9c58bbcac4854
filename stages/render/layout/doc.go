// Package layout is the small layout layer gpdoc's reports need on top of
// pdfcpu: fonts measured with their own TrueType metrics, word wrapping,
// rows of wrapped cells that flow over pages, and running headers and
// footers with "Page x of y".
//
// pdfcpu v0.15's own layout features do not cover this: its JSON layout
// does not flow text across pages, its table cells do not wrap, its core
// fonts cannot draw characters outside Windows-1252, and user fonts must be
// installed into a font directory on disk (a process-wide setting) and are
// subset under a random name. So this package embeds its fonts itself: a
// [Font] is parsed once (golang.org/x/image/font/sfnt and its own table
// directory reader), and each PDF gets a Type0/CIDFontType2 font with an
// Identity-H encoding whose program is a subset of the font: the glyphs the
// document sets (and the components of composite glyphs) under their
// original glyph ids, the others empty (subset.go). Its name's tag, W array
// and ToUnicode map are derived from the same glyph set. pdfcpu builds the
// page tree (create.UpdatePageTree) and writes the file (api.WriteContext).
//
// # Use
//
// Make a [Document] with [New], set its Header and Footer, add content with
// [Document.Row], [Document.Paragraph] and the cursor methods, then call
// [Document.PDF]. Coordinates are points from the top-left corner.
//
// # Determinism and concurrency
//
// The output depends only on the content and [Info]: objects are written in
// object-number order and the dates and file id pdfcpu takes from the clock
// are replaced. pdfcpu's global configuration is set once (sync.Once) with
// api.DisableConfigDir before first use, and fonts are immutable, so
// documents can be built on many goroutines at once; a single Document is
// not safe for concurrent use.
package layout
