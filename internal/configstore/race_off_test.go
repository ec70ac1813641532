//go:build !race

package configstore

const raceEnabled = false
