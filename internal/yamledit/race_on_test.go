//go:build race

package yamledit

// raceEnabled scales heavy tests down under the race detector, which makes
// them several times slower without finding more; `make test` runs them at
// full size without it too.
const raceEnabled = true
