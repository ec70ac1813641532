// Package version holds the build information that the Makefile sets with
// -ldflags -X; the defaults describe a plain `go build`.
package version

// Set at link time; never assigned at run time.
var (
	Version   = "dev"
	Commit    = "none"
	BuildDate = "unknown"
)
