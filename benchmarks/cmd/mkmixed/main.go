// Command mkmixed writes the benchmark's mixed backlog (package
// benchmarks/mixed): a JSON Lines manifest of N lines and the files it
// names, in DIR.
//
//	go run ./benchmarks/cmd/mkmixed -n 1000 -o /tmp/mixed
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/gpdoc/gpdoc/benchmarks/mixed"
)

func main() {
	n := flag.Int("n", 1000, "manifest lines")
	dir := flag.String("o", "mixed", "output folder")
	flag.Parse()
	f, err := mixed.Write(*dir, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkmixed:", err)
		os.Exit(1)
	}
	kinds := make([]string, 0, len(f.Mix))
	for k := range f.Mix {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	fmt.Printf("%s: %d lines, %.1f MB of files named\n", f.Manifest, f.Lines, float64(f.Bytes)/1e6)
	for _, k := range kinds {
		fmt.Printf("  %-18s %d\n", k, f.Mix[mixed.Kind(k)])
	}
}
