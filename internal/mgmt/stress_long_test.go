//go:build stress

package mgmt_test

// stressSteps is the long run of `make stress`.
const stressSteps = 5000
