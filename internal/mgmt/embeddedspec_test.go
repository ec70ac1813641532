package mgmt_test

import (
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/cli-proxy-api/cli-proxy-api/gen/mgmtapi"
)

// The spec embedded in the binary (the request validator's, the one GET
// /openapi.json serves) declares every request body as api/openapi.yaml
// does: the overlay that hands two bodies to their handlers as streams
// (gen/mgmtapi/overlay.yaml) shapes the generated handlers only.
func TestEmbeddedSpecDeclaresTheBodiesAsWritten(t *testing.T) {
	written, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := mgmtapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	mediaTypes := func(op *openapi3.Operation) []string {
		if op == nil || op.RequestBody == nil || op.RequestBody.Value == nil {
			return nil
		}
		var out []string
		for mt := range op.RequestBody.Value.Content {
			out = append(out, mt)
		}
		slices.Sort(out)
		return out
	}
	for path, item := range written.Paths.Map() {
		for method, op := range item.Operations() {
			other := embedded.Paths.Value(path)
			if other == nil || other.GetOperation(method) == nil {
				t.Errorf("%s %s is not in the embedded spec", method, path)
				continue
			}
			if want, got := mediaTypes(op), mediaTypes(other.GetOperation(method)); !slices.Equal(want, got) {
				t.Errorf("%s %s: the embedded spec takes %v, api/openapi.yaml %v", method, path, got, want)
			}
		}
	}
}
