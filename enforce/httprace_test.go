//go:build race

package enforce

// httpRaceEnabled: the race detector makes sync.Pool drop values at random,
// so allocation counts differ from a normal build.
const httpRaceEnabled = true
