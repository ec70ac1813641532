package harness

import (
	"bytes"
	"strconv"
	"strings"
)

// MetricLine splits one sample line of the Prometheus text format into the
// metric name (labels dropped) and its value.
func MetricLine(s string) (string, float64, bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return "", 0, false
	}
	v, err := strconv.ParseFloat(s[i+1:], 64)
	if err != nil {
		return "", 0, false
	}
	name := s[:i]
	if j := strings.IndexByte(name, '{'); j >= 0 {
		name = name[:j]
	}
	return name, v, true
}

// MetricSum sums every sample of the named metric in a /metrics answer.
func MetricSum(body []byte, name string) (sum float64, found bool) {
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if n, v, ok := MetricLine(string(line)); ok && n == name {
			sum += v
			found = true
		}
	}
	return sum, found
}
