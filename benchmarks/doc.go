// Package benchmarks holds gpdoc's end-to-end benchmarks (go test -bench
// ./benchmarks/) and the tools behind compare-imagemagick.sh.
package benchmarks
