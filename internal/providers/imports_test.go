package providers_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The registry is read by config, the logins, the auth files and the
// proxy, so it imports nothing of the project's.
func TestImportsNothingOfOurs(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/cli-proxy-api/cli-proxy-api/internal/providers").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/cli-proxy-api/cli-proxy-api/") && pkg != "github.com/cli-proxy-api/cli-proxy-api/internal/providers" {
			t.Errorf("internal/providers depends on %s", pkg)
		}
	}
}
