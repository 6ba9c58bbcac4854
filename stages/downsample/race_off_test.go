//go:build !race

package downsample

const raceEnabled = false
