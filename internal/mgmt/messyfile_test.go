package mgmt_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/clients/go/mgmtclient"
	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

// A hand-written file need not be in normalised form: its values may be
// untrimmed or duplicated. Edits must still land on the right lines and the
// file must still load to what the API says.
func TestEditsOnAFileThatIsNotNormalised(t *testing.T) {
	messy := strings.Replace(baseConfig(), "api-keys:\n  - \"k1\"\n  - \"k2\"\n", "api-keys:\n  - \" k1 \"\n  - \"k1\"\n  - \"k2\" # second\n", 1)
	e := newEnv(t, messy)
	if got := strings.Join(e.store.Current().Config.APIKeys, ","); got != "k1,k2" {
		t.Fatalf("loaded %q", got)
	}
	t.Run("unrelated setting leaves the messy list alone", func(t *testing.T) {
		before := e.file()
		r, err := e.client.PutDebugWithResponse(ctx(), &mgmtclient.PutDebugParams{}, mgmtclient.BoolValue{Value: true})
		must(e, err)
		statusOf(t, r.HTTPResponse, http.StatusOK)
		if diff := testutil.ChangedLines(t, before, e.file()); len(diff) != 1 {
			t.Fatalf("changed %v", diff)
		}
	})
	t.Run("editing the list by index edits the item the API showed", func(t *testing.T) {
		r, err := e.client.PatchAPIKeysWithResponse(ctx(), &mgmtclient.PatchAPIKeysParams{}, mgmtclient.StringListPatch{Index: ip(1), Value: sp("k2b")})
		must(e, err)
		statusOf(t, r.HTTPResponse, http.StatusOK)
		if got := strings.Join(e.store.Current().Config.APIKeys, ","); got != "k1,k2b" {
			t.Fatalf("memory %q", got)
		}
		restarted := newEnv(t, e.file())
		if got := strings.Join(restarted.store.Current().Config.APIKeys, ","); got != "k1,k2b" {
			t.Fatalf("file loads as %q:\n%s", got, e.file())
		}
	})
}
