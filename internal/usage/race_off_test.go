//go:build !race

package usage

const raceDetector = false
