package main

import (
	"github.com/spf13/cobra"

	"github.com/gpdoc/gpdoc/conneqt"
)

// limitFlags are the size-limit flags validate, backfill and send share:
// they set the route table's per-attachment limit and its basis, which
// every size check and the downsample stage's target then follow.
type limitFlags struct {
	maxBytes int64
	basis    string
}

func (l *limitFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.Int64Var(&l.maxBytes, "max-attachment-bytes", 0,
		"per-attachment size limit in bytes, counted as --limit-basis says (0: the route table's, 5000000)")
	fl.StringVar(&l.basis, "limit-basis", "",
		"what --max-attachment-bytes counts: decoded (the file's bytes; the default) or base64 (the Base64 text sent)")
}

// routes returns the route table with the flags' limit applied to every
// route, or nil when neither flag is set (the table as it is). A bad value
// is a usage error.
func (l *limitFlags) routes() (map[conneqt.RouteName]*conneqt.Route, error) {
	if l.maxBytes < 0 {
		return nil, usageError("--max-attachment-bytes must not be negative")
	}
	if l.maxBytes == 0 && l.basis == "" {
		return nil, nil
	}
	var basis conneqt.LimitBasis
	if l.basis != "" {
		b, err := conneqt.ParseLimitBasis(l.basis)
		if err != nil {
			return nil, usageError("--limit-basis: %v", err)
		}
		basis = b
	}
	table := conneqt.Table()
	for name, r := range table {
		c, err := r.WithAttachmentLimit(l.maxBytes, basis)
		if err != nil {
			return nil, usageError("--max-attachment-bytes/--limit-basis: %v", err)
		}
		table[name] = c
	}
	return table, nil
}
