package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func init() {
	addCommand(func() *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "Print gpdoc's version and build information",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				v := version
				info, ok := debug.ReadBuildInfo()
				if v == "" && ok {
					v = info.Main.Version
				}
				if v == "" {
					v = "(devel)"
				}
				goVersion := "unknown"
				if ok {
					goVersion = info.GoVersion
				}
				fmt.Fprintf(cmd.OutOrStdout(), "gpdoc %s (%s)\n", v, goVersion)
				return nil
			},
		}
	})
}
