// Package testutil holds the helpers that tests of several packages share:
// waiting for a config watcher's reloads, writing a temp config and
// comparing files line by line, starting a server until it serves, free
// ports, one HTTP call, a buffer the code under test writes to from its
// goroutines, and overwriting every value reachable from a copy. Only tests import it (TestOnlyTestsImportIt);
// it imports no package of this module, so an in-package test of any of
// them can use it without an import cycle.
package testutil
