package testutil_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyTestsImportIt keeps test helpers out of the binary: no package of
// the module imports testutil outside its tests, and testutil imports no
// package of the module (so any package's in-package tests may use it).
func TestOnlyTestsImportIt(t *testing.T) {
	const mod = "github.com/cli-proxy-api/cli-proxy-api/"
	const self = mod + "internal/testutil"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, imp := range fields[1:] {
			switch {
			case fields[0] != self && imp == self:
				t.Errorf("%s imports testutil outside its tests", fields[0])
			case fields[0] == self && strings.HasPrefix(imp, mod):
				t.Errorf("testutil imports %s", imp)
			}
		}
	}
}
