package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time, e.g.
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD) -X main.buildDate=$(date -u +%FT%TZ)" ./cmd/gpdoc
//
// Left empty, they are read from the build information Go stamps into the
// binary (module version, VCS revision and commit time).
var (
	version   = ""
	commit    = ""
	buildDate = ""
)

// buildInfo is what `gpdoc version` prints.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified,omitempty"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, BuildDate: buildDate, GoVersion: "unknown"}
	if info, ok := debug.ReadBuildInfo(); ok {
		b.GoVersion = info.GoVersion
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.BuildDate == "" {
					b.BuildDate = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.BuildDate == "" {
		b.BuildDate = "unknown"
	}
	return b
}

// String is the one-line form, also printed by --version.
func (b buildInfo) String() string {
	dirty := ""
	if b.Modified {
		dirty = "+modified"
	}
	return fmt.Sprintf("gpdoc %s (commit %s%s, built %s, %s)", b.Version, b.Commit, dirty, b.BuildDate, b.GoVersion)
}

func init() {
	addCommand(func() *cobra.Command {
		var asJSON bool
		cmd := &cobra.Command{
			Use:   "version",
			Short: "Print gpdoc's version, commit and build date",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				b := readBuildInfo()
				if asJSON {
					return json.NewEncoder(cmd.OutOrStdout()).Encode(b)
				}
				fmt.Fprintln(cmd.OutOrStdout(), b)
				return nil
			},
		}
		cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return cmd
	})
}
