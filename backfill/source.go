package backfill

import (
	"context"
	"errors"
	"iter"

	"github.com/gpdoc/gpdoc/pipeline/manifest"
)

// lines is the run's input as manifest lines: the manifest, read as a
// stream, or Config.Documents, numbered from 1 in their order unless a
// document has its own Line, and hashed with [manifest.DocumentHash] as
// they are taken (so a document changed before it is yielded is hashed as
// it is sent). A nil document is an invalid line.
func (r *run) lines(ctx context.Context) iter.Seq[manifest.Line] {
	if r.cfg.Documents == nil {
		return manifest.ReadWith(ctx, r.cfg.Manifest, manifest.Options{Dir: r.cfg.BaseDir, AllowPaths: r.cfg.AllowPaths})
	}
	return func(yield func(manifest.Line) bool) {
		n := 0
		for doc := range r.cfg.Documents {
			n++
			if ctx.Err() != nil {
				return
			}
			l := manifest.Line{Number: n}
			switch {
			case doc == nil || doc.Message == nil || doc.Route == nil:
				l.Err = &manifest.LineError{Line: n, Err: errors.New("a nil document, or one without a message or route: build it with manifest.NewDocument")}
			case doc.Message.MessageID == "":
				l.Err = &manifest.LineError{Line: n, Err: errors.New("no messageId: build the document with manifest.NewDocument, which derives one from the sourceId")}
			default:
				if doc.Line > 0 {
					l.Number = doc.Line
				} else {
					doc.Line = n
				}
				h, err := manifest.DocumentHash(doc)
				if err != nil {
					l.Err = &manifest.LineError{Line: l.Number, Err: err}
				} else {
					l.Hash, l.Doc = h, doc
				}
			}
			if !yield(l) {
				return
			}
		}
	}
}
