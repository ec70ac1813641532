package mgmt

// SetUsageImportLimit lowers POST /usage/import's body limit for a test and
// returns the function that restores it.
func SetUsageImportLimit(n int64) (restore func()) {
	old := usageImportLimit.Swap(n)
	return func() { usageImportLimit.Store(old) }
}
