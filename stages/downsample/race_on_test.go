//go:build race

package downsample

// raceEnabled: the race detector slows pixel loops several-fold, so the
// heaviest 24 MP cases run only without it.
const raceEnabled = true
