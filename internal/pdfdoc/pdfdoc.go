// Package pdfdoc is the PDF intake shared by the validate and sanitise
// stages: pdfcpu set up once for untrusted input (no config directory,
// relaxed validation, tight resource limits), a byte-level check of the
// file's trailer, detection of passwords and image bombs, and the finding
// and removal of active content (JavaScript, launch and submit actions,
// embedded files, XFA).
//
// pdfcpu can panic on hostile input. Nothing here recovers: a panic is
// recovered at the stage boundary (pipeline.Runner, or pipeline.Recover for
// validate.CheckMessage), which sees that it started in pdfcpu and reports
// the attachment as a damaged file.
package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"

	"github.com/gpdoc/gpdoc/internal/budget"
	"github.com/gpdoc/gpdoc/internal/pdfcpusetup"
)

// Sentinel errors, for errors.Is.
var (
	// ErrCorrupt: the file does not parse as a PDF.
	ErrCorrupt = errors.New("PDF does not parse")
	// ErrEncrypted: the file needs a password to open, or uses encryption
	// pdfcpu cannot read.
	ErrEncrypted = errors.New("PDF is encrypted")
	// ErrImageTooLarge: an embedded image is over the pixel budget.
	ErrImageTooLarge = errors.New("embedded image over the pixel budget")
	// ErrStreamsTooLarge: the PDF's object streams decode to more than
	// MaxDecodedBytes in all.
	ErrStreamsTooLarge = errors.New("PDF streams decode to more than gpdoc reads")
)

// Setup makes pdfcpu use its built-in configuration instead of writing one
// into the user's home directory (the process-wide pdfcpusetup.Do). It is
// safe to call many times; every function of this package calls it.
func Setup() { pdfcpusetup.Do() }

// notOwnerPassword is given as the owner password so that pdfcpu does not
// open a file with the (often empty) owner password: a file then opens only
// if its user password is empty, which is what a viewer would need.
const notOwnerPassword = "gpdoc-not-the-owner-password-5f0d2a9c71e4"

// Config returns a pdfcpu configuration for untrusted input: relaxed
// validation (strict mode rejects well-formed files of common producers),
// limits well below pdfcpu's defaults, and images capped at maxPixels.
func Config(maxPixels int64) *model.Configuration {
	Setup()
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationRelaxed
	conf.OwnerPW = notOwnerPassword
	conf.Limits.MaxStreamBytes = 128 << 20
	conf.Limits.MaxDecodeBytes = MaxDecodedBytes
	if maxPixels > 0 {
		conf.Limits.MaxImagePixels = maxPixels
		conf.Limits.MaxImageBytes = 4 * maxPixels
	}
	conf.Limits.MaxObjectCount = 1_000_000
	conf.Limits.MaxObjectStreamCount = 100_000
	conf.Limits.MaxObjectStreamFirst = 4 << 20
	conf.Limits.MaxXRefEntries = 1_000_000
	conf.Limits.MaxRecursionDepth = 64
	return conf
}

// Doc is a parsed PDF.
type Doc struct {
	Ctx *model.Context
	// Encrypted is true for a file that opens without a password but is
	// encrypted (permissions only).
	Encrypted bool
}

// Parsed is a PDF that OpenContext read and checked, with the bytes and
// the pixel limit it was opened with, so that a later step can reuse it
// instead of parsing the same bytes again (the validate stage keeps it on
// the document for the sanitise stage).
type Parsed struct {
	data      []byte
	maxPixels int64
	doc       *Doc
}

// ParsedKey is the key under which the stages keep a *Parsed on a
// pipeline.Document (Remember, Recall).
var ParsedKey any = parsedKey{}

type parsedKey struct{}

// NewParsed records that doc is data opened by OpenContext under maxPixels.
func NewParsed(data []byte, maxPixels int64, doc *Doc) *Parsed {
	return &Parsed{data: data, maxPixels: maxPixels, doc: doc}
}

// For returns the parsed document when it was opened from exactly data
// (the same bytes in memory, which nothing changed in between) under a
// pixel limit of at most maxPixels, so that every check OpenContext(data,
// maxPixels) would make has been made; otherwise nil, and the caller opens
// data itself. p may be nil.
func (p *Parsed) For(data []byte, maxPixels int64) *Doc {
	if p == nil || p.doc == nil || len(data) == 0 || len(p.data) != len(data) ||
		&p.data[0] != &data[0] || p.maxPixels <= 0 || p.maxPixels > maxPixels {
		return nil
	}
	return p.doc
}

// Open is OpenContext with no deadline and the process's decode budget.
func Open(data []byte, maxPixels int64) (*Doc, error) {
	return OpenContext(context.Background(), data, maxPixels, nil)
}

// OpenContext checks the trailer bytes, reads data with pdfcpu and
// validates it in relaxed mode, and checks embedded images against
// maxPixels. Between reading and validating, which decodes the object
// streams and keeps them (and never decodes page content), it measures
// them ([MeasureObjectStreams]): over MaxDecodedBytes in all is
// ErrStreamsTooLarge, and otherwise they and twice the file are reserved
// from the decode budget b (nil: budget.Process()) while the PDF is
// validated, waiting as long as ctx allows; more than the whole budget is
// an error wrapping budget.ErrOverBudget. (The returned Doc still holds what was decoded;
// the reservation covers the reading, when it is allocated.) It returns an
// error wrapping ErrCorrupt, ErrEncrypted, ErrImageTooLarge,
// ErrStreamsTooLarge or budget.ErrOverBudget, or ctx's error.
func OpenContext(ctx context.Context, data []byte, maxPixels int64, b *budget.Budget) (doc *Doc, err error) {
	if err := CheckTrailer(data); err != nil {
		return nil, err
	}
	pc, err := api.ReadContext(bytes.NewReader(data), Config(maxPixels))
	if err != nil {
		return nil, classify(err)
	}
	cost, err := MeasureObjectStreams(ctx, pc.XRefTable, MaxDecodedBytes)
	if err != nil {
		return nil, err
	}
	if cost.Streams > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: its object streams decode to more than %s (a decompression bomb?)", ErrStreamsTooLarge, budget.Human(MaxDecodedBytes))
	}
	release, err := budget.Or(b).Acquire(ctx, 2*int64(len(data))+cost.ObjectStreams, budget.Human(int64(len(data)))+" PDF")
	if err != nil {
		return nil, err
	}
	defer release()
	return validated(pc, data, maxPixels)
}

// validated finishes OpenContext on what pdfcpu read.
func validated(ctx *model.Context, data []byte, maxPixels int64) (*Doc, error) {
	if ctx.Encrypt == nil && directEncrypt.Match(data) {
		return nil, fmt.Errorf("%w: its trailer has an /Encrypt dictionary gpdoc cannot read", ErrEncrypted)
	}
	if err := api.ValidateContext(ctx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, shorten(err))
	}
	if err := checkImages(ctx, maxPixels); err != nil {
		return nil, err
	}
	return &Doc{Ctx: ctx, Encrypted: ctx.Encrypt != nil}, nil
}

// directEncrypt matches an /Encrypt entry, direct or indirect, as it would
// appear in a trailer dictionary.
var directEncrypt = regexp.MustCompile(`/Encrypt\s*(<<|\d+\s+\d+\s+R)`)

func classify(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword):
		return fmt.Errorf("%w: it needs a password to open", ErrEncrypted)
	case strings.Contains(msg, "encrypt"):
		return fmt.Errorf("%w in a way gpdoc cannot read (%v)", ErrEncrypted, shorten(err))
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, shorten(err))
}

// shorten keeps pdfcpu's messages readable in a problem report.
func shorten(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

var (
	objHeader   = regexp.MustCompile(`(^|[\r\n])\s*\d+\s+\d+\s+obj\b`)
	xrefKeyword = regexp.MustCompile(`(^|[\r\n])\s*xref\s`)
)

// xrefSlack is how far (bytes) startxref may miss its target.
const xrefSlack = 32

// CheckTrailer checks the bytes a reader needs to find the document: a
// %PDF- header within the first 1024 bytes, %%EOF within the last 1024
// (Acrobat's own tolerances), and a startxref offset that points at a
// cross-reference section or stream. Files cut short, with data appended,
// or with a broken cross-reference table fail it, although pdfcpu's repair
// would read some of them.
func CheckTrailer(data []byte) error {
	hdr := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-"))
	if hdr < 0 {
		return fmt.Errorf("%w: no %%PDF- header in the first 1024 bytes", ErrCorrupt)
	}
	tailStart := max(0, len(data)-1024)
	eof := bytes.LastIndex(data[tailStart:], []byte("%%EOF"))
	if eof < 0 {
		return fmt.Errorf("%w: no %%%%EOF marker at the end (the file is cut short or has data appended)", ErrCorrupt)
	}
	end := tailStart + eof
	sx := bytes.LastIndex(data[:end], []byte("startxref"))
	if sx < 0 {
		return fmt.Errorf("%w: no startxref before %%%%EOF", ErrCorrupt)
	}
	rest := bytes.TrimLeft(data[sx+len("startxref"):end], " \t\r\n\f\x00")
	i := 0
	for i < len(rest) && i < 19 && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return fmt.Errorf("%w: startxref gives no offset", ErrCorrupt)
	}
	off, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: startxref offset: %v", ErrCorrupt, err)
	}
	// Writers that put bytes before the header count offsets from the
	// file's start or from the header, and some are a few bytes out: look
	// in a small window around both readings.
	for _, base := range []int64{0, int64(hdr)} {
		at := off + base
		if at < 0 || at >= int64(len(data)) {
			continue
		}
		win := data[max(0, at-xrefSlack):min(int64(len(data)), at+xrefSlack+32)]
		if xrefKeyword.Match(win) || objHeader.Match(win) {
			return nil
		}
	}
	return fmt.Errorf("%w: startxref offset %d does not point at a cross-reference table", ErrCorrupt, off)
}

// checkImages refuses image XObjects whose declared size is over
// maxPixels: decompression bombs, refused before anything decodes them.
func checkImages(ctx *model.Context, maxPixels int64) error {
	if maxPixels <= 0 {
		return nil
	}
	x := ctx.XRefTable
	for _, nr := range sortedObjNrs(x) {
		sd, ok := x.Table[nr].Object.(types.StreamDict)
		if !ok {
			continue
		}
		w, h := intEntry(x, sd.Dict, "Width"), intEntry(x, sd.Dict, "Height")
		st := sd.Subtype()
		isImage := (st != nil && *st == "Image") || (w != 0 && h != 0)
		if !isImage {
			// An image-only filter on a stream that is not an image (a
			// page's content, say) is how JBIG2 and JPEG bombs hide.
			if f := imageFilter(x, sd.Dict); f != "" {
				return fmt.Errorf("%w: object %d is not an image but is encoded with %s, an image-only filter", ErrCorrupt, nr, f)
			}
			continue
		}
		if w < 0 || h < 0 {
			return fmt.Errorf("%w: image object %d has a negative size", ErrCorrupt, nr)
		}
		if w > 0 && h > 0 && w*h > maxPixels {
			return fmt.Errorf("%w: image object %d declares %d×%d pixels (%d), more than the budget of %d: a decompression bomb?", ErrImageTooLarge, nr, w, h, w*h, maxPixels)
		}
	}
	return nil
}

var imageFilters = map[string]bool{"JBIG2Decode": true, "DCTDecode": true, "JPXDecode": true, "CCITTFaxDecode": true}

// imageFilter returns the first image-only filter of a stream, or "".
func imageFilter(x *model.XRefTable, d types.Dict) string {
	v, ok := d.Find("Filter")
	if !ok {
		return ""
	}
	o, err := x.Dereference(v)
	if err != nil {
		return ""
	}
	switch f := o.(type) {
	case types.Name:
		if imageFilters[string(f)] {
			return string(f)
		}
	case types.Array:
		for _, e := range f {
			if n, ok := e.(types.Name); ok && imageFilters[string(n)] {
				return string(n)
			}
		}
	}
	return ""
}

func intEntry(x *model.XRefTable, d types.Dict, key string) int64 {
	v, ok := d.Find(key)
	if !ok {
		return 0
	}
	o, err := x.Dereference(v)
	if err != nil {
		return 0
	}
	switch n := o.(type) {
	case types.Integer:
		return int64(n)
	case types.Float:
		return int64(n)
	}
	return 0
}

func sortedObjNrs(x *model.XRefTable) []int {
	nrs := make([]int, 0, len(x.Table))
	for nr, e := range x.Table {
		if e != nil && !e.Free && e.Object != nil {
			nrs = append(nrs, nr)
		}
	}
	slices.Sort(nrs)
	return nrs
}
