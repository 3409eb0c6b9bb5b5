//go:build !race

package impersonation_test

// raceEnabled is true under the race detector; see race_test.go.
const raceEnabled = false
