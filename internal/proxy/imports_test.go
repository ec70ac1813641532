package proxy_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The data plane imports config and neutral helpers, never the management
// side or the config store (the package map in the style notes). It
// reports to usage (the event type; the recorder is its own interface) and
// requestlog, which import nothing of the proxy's.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/cli-proxy-api/cli-proxy-api/internal/proxy/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/cli-proxy-api/cli-proxy-api/"
	allowed := map[string]bool{"internal/config": true, "internal/errs": true, "internal/httpx": true,
		"internal/proxy": true, "internal/proxy/protocol": true, "internal/proxy/translate": true, "internal/proxy/translate/translatetest": true,
		"internal/usage": true, "internal/requestlog": true, "internal/version": true,
		"internal/proxy/sse": true, // the SSE reader and writer every protocol's streams share
		// Auth-file accounts: the account type and token source, and the
		// auth-dir store they read and write back to.
		"internal/upstreamauth": true, "internal/authfiles": true,
		// The provider registry: kinds, catalogues, owners.
		"internal/providers": true,
		// Client-key policies: admission and spend, no HTTP.
		"internal/clientkeys": true,
		// The access log's per-request note (it imports nothing of the proxy's).
		"internal/accesslog": true,
		// Name patterns ('*' wildcards).
		"internal/wildcard": true}
	for _, pkg := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(pkg, mod); ok && !allowed[rel] {
			t.Errorf("internal/proxy depends on %s", rel)
		}
	}
}
