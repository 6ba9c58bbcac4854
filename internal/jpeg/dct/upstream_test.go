package dct

import (
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/upstream"
)

// TestUpstreamUnchanged fails when a Go release changes the image/jpeg
// files this package was copied from (see README.md).
func TestUpstreamUnchanged(t *testing.T) {
	upstream.Check(t, "go1.26.8",
		upstream.Pin{File: "dct.go", SHA256: "c16e9585a6fb9ba08a0aacfd36911bf394ec3abaaaa633a2589256101be16d30"},
		upstream.Pin{File: "dct_test.go", SHA256: "a944ad5df39b4c72d61f7a645c87b942041edf9f92691dbbb175eff5c9f20c16"},
	)
}
