package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// Modes of what gpdoc creates that holds patient data (the --report file,
// the --dry-run folder and its messages; the ledger is sqlite.FileMode):
// readable by their owner only, whatever the umask.
const (
	privateFileMode = 0o600
	privateDirMode  = 0o700
)

// addAllowPathFlag registers --allow-path on a command that reads manifests.
// By default an attachment "path" must resolve, after following symlinks,
// inside the manifest's folder; each --allow-path adds one folder.
func addAllowPathFlag(cmd *cobra.Command, dirs *[]string) {
	cmd.Flags().StringArrayVar(dirs, "allow-path", nil,
		"also read attachment files from `DIR` (repeatable); by default a manifest may only name regular files inside its own folder")
}

// checkAllowPaths returns the --allow-path folders made absolute, or a usage
// error for one that is not an existing folder.
func checkAllowPaths(dirs []string) ([]string, error) {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, usageError("--allow-path %q: %v", d, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, usageError("--allow-path %q: %v", d, err)
		}
		if !fi.IsDir() {
			return nil, usageError("--allow-path %q: not a folder", d)
		}
		out = append(out, abs)
	}
	return out, nil
}
