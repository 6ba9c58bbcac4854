//go:build !unix

package pipeline

import "os"

// openFlags opens attachment files for reading; the type check on the open
// file rejects anything but regular files.
const openFlags = os.O_RDONLY
