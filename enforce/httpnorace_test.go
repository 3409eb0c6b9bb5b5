//go:build !race

package enforce

const httpRaceEnabled = false
