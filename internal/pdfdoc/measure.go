package pdfdoc

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"io"

	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// MaxDecodedBytes bounds, in all, what the streams gpdoc decodes from one
// PDF may decode to (the object streams, when validate and sanitise read
// it): the limit pdfcpu is given for one stream.
const MaxDecodedBytes = 256 << 20

// Cost is what a PDF's streams decode to, measured without keeping them.
type Cost struct {
	// Streams counts every non-image stream (object streams included) once.
	// Counting stops once it passes the limit given to Measure.
	Streams int64
	// PageContent counts page content streams once for each page that
	// draws them: what a tool that parses every page's content parses.
	PageContent int64
	// LargestPage is the largest page's content.
	LargestPage int64
	// ObjectStreams counts object streams, which pdfcpu decodes and keeps
	// when it resolves an object inside them (validation resolves them all).
	ObjectStreams int64
}

// Measure measures the decoded size of the non-image streams of a PDF read
// with pdfcpu (api.ReadContext, which decodes only object streams'
// prologs) without keeping them: Flate streams are inflated into a
// counter, others decoded by pdfcpu within what is left of limit. ctx is
// checked between streams and pages and every 4 MiB inflated. A stream
// that does not decode is not counted: whatever reads it fails on it.
func Measure(ctx context.Context, xt *model.XRefTable, limit int64) (Cost, error) {
	return measure(ctx, xt, limit, false)
}

// MeasureObjectStreams is Measure of the object streams alone (Streams
// and ObjectStreams both count them; no page content is measured): what
// reading and validating a PDF decodes.
func MeasureObjectStreams(ctx context.Context, xt *model.XRefTable, limit int64) (Cost, error) {
	return measure(ctx, xt, limit, true)
}

func measure(ctx context.Context, xt *model.XRefTable, limit int64, objectStreams bool) (Cost, error) {
	var c Cost
	sizes := make(map[int]int64)
	for _, nr := range sortedObjNrs(xt) {
		if err := ctx.Err(); err != nil {
			return c, err
		}
		sd, ok := streamOf(xt.Table[nr].Object)
		if !ok || sd.Image() || objectStreams && !isObjectStream(xt.Table[nr].Object) {
			continue
		}
		n, err := decodedSize(ctx, sd, limit-c.Streams+1)
		if err != nil {
			if ctx.Err() != nil {
				return c, ctx.Err()
			}
			continue
		}
		sizes[nr] = n
		c.Streams += n
		if isObjectStream(xt.Table[nr].Object) {
			c.ObjectStreams += n
		}
		if c.Streams > limit {
			return c, nil
		}
	}
	if objectStreams {
		return c, nil
	}
	err := walkPages(ctx, xt, func(page types.Dict) {
		var n int64
		for _, ref := range contentRefs(page) {
			n += sizes[ref]
		}
		c.PageContent += n
		c.LargestPage = max(c.LargestPage, n)
	})
	return c, err
}

// streamOf returns the stream dictionary of a stream object of any kind.
func streamOf(o types.Object) (types.StreamDict, bool) {
	switch s := o.(type) {
	case types.StreamDict:
		return s, true
	case *types.StreamDict:
		return *s, s != nil
	case types.ObjectStreamDict:
		return s.StreamDict, true
	case *types.ObjectStreamDict:
		if s == nil {
			return types.StreamDict{}, false
		}
		return s.StreamDict, true
	case types.XRefStreamDict:
		return s.StreamDict, true
	case *types.XRefStreamDict:
		if s == nil {
			return types.StreamDict{}, false
		}
		return s.StreamDict, true
	}
	return types.StreamDict{}, false
}

func isObjectStream(o types.Object) bool {
	switch o.(type) {
	case types.ObjectStreamDict, *types.ObjectStreamDict:
		return true
	}
	return false
}

// walkPages calls fn for every page of the page tree, in order; a node
// seen twice (a cycle, or a page shared by two parents) is skipped.
func walkPages(ctx context.Context, xt *model.XRefTable, fn func(types.Dict)) error {
	cat, err := xt.Catalog()
	if err != nil {
		return nil // validation says what is wrong
	}
	seen := make(map[int]bool)
	var walk func(o types.Object, depth int) error
	walk = func(o types.Object, depth int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r, ok := o.(types.IndirectRef); ok {
			if seen[r.ObjectNumber.Value()] {
				return nil
			}
			seen[r.ObjectNumber.Value()] = true
		}
		d, err := xt.DereferenceDict(o)
		if err != nil || d == nil || depth > 64 {
			return nil
		}
		kids, ok := d.Find("Kids")
		if !ok {
			fn(d)
			return nil
		}
		arr, err := xt.DereferenceArray(kids)
		if err != nil {
			return nil
		}
		for _, k := range arr {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	pages, ok := cat.Find("Pages")
	if !ok {
		return nil
	}
	return walk(pages, 0)
}

// contentRefs returns the object numbers of a page's content streams.
func contentRefs(d types.Dict) []int {
	o, _ := d.Find("Contents")
	switch o := o.(type) {
	case types.IndirectRef:
		return []int{o.ObjectNumber.Value()}
	case types.Array:
		var out []int
		for _, e := range o {
			if r, ok := e.(types.IndirectRef); ok {
				out = append(out, r.ObjectNumber.Value())
			}
		}
		return out
	}
	return nil
}

// decodedSize is the decoded length of sd, or limit if that is reached.
func decodedSize(ctx context.Context, sd types.StreamDict, limit int64) (int64, error) {
	switch {
	case sd.Content != nil:
		return int64(len(sd.Content)), nil
	case len(sd.FilterPipeline) == 0:
		return int64(len(sd.Raw)), nil
	case len(sd.FilterPipeline) == 1 && sd.FilterPipeline[0].Name == filter.Flate:
		zr, err := zlib.NewReader(bytes.NewReader(sd.Raw))
		if err != nil {
			return 0, err
		}
		n, err := io.Copy(&ctxDiscard{ctx: ctx}, io.LimitReader(zr, limit))
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return n, err
		}
		return n, nil
	}
	for _, fp := range sd.FilterPipeline {
		switch fp.Name {
		case filter.DCT, filter.JPX, filter.JBIG2, filter.CCITTFax:
			return 0, nil // image data in a stream that does not say so: checkImages refuses it
		}
	}
	b, err := sd.DecodeLengthWithLimit(-1, limit)
	return int64(len(b)), err
}

// ctxDiscard counts what is written to it and fails once ctx has ended
// (checked every 4 MiB).
type ctxDiscard struct {
	ctx  context.Context
	n    int64
	next int64
}

func (d *ctxDiscard) Write(p []byte) (int, error) {
	d.n += int64(len(p))
	if d.n >= d.next {
		d.next = d.n + 4<<20
		if err := d.ctx.Err(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
