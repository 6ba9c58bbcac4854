// Package pdfcpusetup sets pdfcpu's process-wide state once, for every
// package of gpdoc that uses pdfcpu.
//
// With a nil configuration pdfcpu creates a configuration directory under
// $HOME and installs fonts there; api.DisableConfigDir stops that, but it
// writes a package variable that pdfcpu reads each time it builds a default
// configuration. Every caller must therefore go through the same sync.Once
// before its first pdfcpu call: separate Onces in separate packages race
// (one package's write against another's read), as the race detector
// showed when the render, validate and downsample stages ran together.
package pdfcpusetup

import (
	"sync"

	"github.com/pdfcpu/pdfcpu/pkg/api"
)

var once sync.Once

// Do configures pdfcpu once per process; call it before any pdfcpu call.
// It is safe for concurrent use and cheap after the first call.
func Do() { once.Do(api.DisableConfigDir) }
