//go:build race

package usage

// raceDetector scales the property tests down: the race detector makes the
// pure-Go SQLite tens of times slower.
const raceDetector = true
