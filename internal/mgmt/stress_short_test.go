//go:build !stress

package mgmt_test

// stressSteps keeps the stress test short in `make test`.
const stressSteps = 150
