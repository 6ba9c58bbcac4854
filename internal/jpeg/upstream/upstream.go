// Package upstream records which files of the standard library's
// image/jpeg gpdoc's JPEG codec was forked from, and its test fails when
// the toolchain's copy of one of them changes.
//
// Each fork (internal/jpeg/coef, internal/jpeg/dct, internal/jpeg/encode)
// names the Go release it came from in its README.md, beside its LICENSE.
// [Forks] pins the SHA-256 of every upstream file they were taken from.
// When a Go release changes one of those files (a fix, say),
// TestForksUnchanged fails and names it: review upstream's change, port
// what applies to the fork, then update the pin and the README.
package upstream

import (
	"os/exec"
	"path/filepath"
	"strings"
)

// A Fork is one package of the codec taken from image/jpeg.
type Fork struct {
	// Package is the fork's import path within the module.
	Package string
	// Release is the Go release whose files the pins hold.
	Release string
	// Pins maps each upstream file (in $GOROOT/src/image/jpeg) to its
	// SHA-256, in hex, when it was forked.
	Pins map[string]string
}

// Forks are the codec's forks of image/jpeg.
var Forks = []Fork{
	{Package: "internal/jpeg/coef", Release: "go1.26.8", Pins: map[string]string{
		"reader.go":  "9af311c6149311b0863a3f3175ac7b5ecb7f86b487006a6ba65f0aa69f7ddb3d",
		"scan.go":    "bb475bb88f5b57a6b55e88a018244cdfae9d7c89487471050ab449f89e1bc39f",
		"huffman.go": "0dc31ab00dcdfc9853d11ff56cce8ce5ff2099e8b2ed18ab35561aa12993897c",
	}},
	{Package: "internal/jpeg/dct", Release: "go1.26.8", Pins: map[string]string{
		"dct.go":      "c16e9585a6fb9ba08a0aacfd36911bf394ec3abaaaa633a2589256101be16d30",
		"dct_test.go": "a944ad5df39b4c72d61f7a645c87b942041edf9f92691dbbb175eff5c9f20c16",
	}},
	{Package: "internal/jpeg/encode", Release: "go1.26.8", Pins: map[string]string{
		"writer.go": "d05aebe5e957345bc743652a7fc4570b183c688500c0ae871bd171dd3ad40082",
	}},
}

// Dir returns $GOROOT/src/image/jpeg of the toolchain on PATH (`go env
// GOROOT`), or "" when it cannot be found.
func Dir() string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return ""
	}
	return filepath.Join(strings.TrimSpace(string(out)), "src", "image", "jpeg")
}
