//go:build race

package proxy

// The race detector slows every memory access: the large answer is
// smaller there, its figures are checked without it.
func init() { answerSize = 24 << 20 }
