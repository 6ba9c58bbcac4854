package encode

import (
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/upstream"
)

// TestUpstreamUnchanged fails when a Go release changes image/jpeg's
// writer.go, which pixels.go and quant.go were forked from (see
// README.md).
func TestUpstreamUnchanged(t *testing.T) {
	upstream.Check(t, "go1.26.8",
		upstream.Pin{File: "writer.go", SHA256: "d05aebe5e957345bc743652a7fc4570b183c688500c0ae871bd171dd3ad40082"},
	)
}
