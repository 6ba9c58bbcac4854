//go:build unix

package pipeline

import (
	"os"
	"syscall"
)

// openFlags opens attachment files without blocking: a named pipe with no
// writer would otherwise hang the open, and Ctrl-C with it.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
