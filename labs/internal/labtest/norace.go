//go:build !race

package labtest

// RaceEnabled reports whether the race detector is on; see race.go.
const RaceEnabled = false
