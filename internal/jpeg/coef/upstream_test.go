package coef

import (
	"testing"

	"github.com/gpdoc/gpdoc/internal/jpeg/upstream"
)

// TestUpstreamUnchanged fails when a Go release changes the image/jpeg
// files this decoder was forked from (see README.md).
func TestUpstreamUnchanged(t *testing.T) {
	upstream.Check(t, "go1.26.8",
		upstream.Pin{File: "reader.go", SHA256: "9af311c6149311b0863a3f3175ac7b5ecb7f86b487006a6ba65f0aa69f7ddb3d"},
		upstream.Pin{File: "scan.go", SHA256: "bb475bb88f5b57a6b55e88a018244cdfae9d7c89487471050ab449f89e1bc39f"},
		upstream.Pin{File: "huffman.go", SHA256: "0dc31ab00dcdfc9853d11ff56cce8ce5ff2099e8b2ed18ab35561aa12993897c"},
	)
}
