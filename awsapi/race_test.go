//go:build race

package awsapi

// raceEnabled is true under the race detector, which makes sync.Pool drop
// values at random (so pooled HMAC states are rebuilt, and allocation counts
// are not what they are in a normal build).
const raceEnabled = true
