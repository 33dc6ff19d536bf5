//go:build race

package labtest

// RaceEnabled reports whether the race detector is on. It slows memory
// accesses several times over, unevenly, so CPU-share budgets measured under
// it describe the detector, not the program: those tests run without -race
// (make test runs them in a second, race-free pass).
const RaceEnabled = true
