package apitypes_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/apitypes"
)

type entry struct {
	Name string `json:"name"`
	N    int    `json:"n,omitempty"`
}

func TestStringListUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    apitypes.StringList
		wantErr bool
	}{
		{"raw array", `["a","b"]`, apitypes.StringList{"a", "b"}, false},
		{"raw array with surrounding space", " \n [\"a\"] \t", apitypes.StringList{"a"}, false},
		{"empty raw array", `[]`, apitypes.StringList{}, false},
		{"items form", `{"items":["x","y"]}`, apitypes.StringList{"x", "y"}, false},
		{"empty items", `{"items":[]}`, apitypes.StringList{}, false},
		{"items null", `{"items":null}`, nil, true},
		{"no items key", `{"foo":1}`, nil, true},
		{"empty object", `{}`, nil, true},
		{"items not an array", `{"items":"a"}`, nil, true},
		{"items of the wrong type", `{"items":[1]}`, nil, true},
		{"array of the wrong type", `["a",2]`, nil, true},
		{"string scalar", `"a"`, nil, true},
		{"number scalar", `1`, nil, true},
		{"bool scalar", `true`, nil, true},
		{"null", `null`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got apitypes.StringList
			err := json.Unmarshal([]byte(tc.body), &got)
			if tc.wantErr {
				if !errors.Is(err, apitypes.ErrShape) {
					t.Fatalf("err = %v, want ErrShape", err)
				}
				if got != nil {
					t.Fatalf("a rejected body left %#v behind", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	t.Run("empty input to UnmarshalJSON", func(t *testing.T) {
		var l apitypes.StringList
		if err := l.UnmarshalJSON([]byte("  ")); !errors.Is(err, apitypes.ErrShape) {
			t.Fatalf("err = %v, want ErrShape", err)
		}
	})
	t.Run("replaces previous content", func(t *testing.T) {
		l := apitypes.StringList{"old", "older"}
		if err := json.Unmarshal([]byte(`["new"]`), &l); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l, apitypes.StringList{"new"}) {
			t.Fatalf("got %#v", l)
		}
	})
}

func TestListOfStructs(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    apitypes.List[entry]
		wantErr bool
	}{
		{"raw array", `[{"name":"a","n":1},{"name":"b"}]`, apitypes.List[entry]{{"a", 1}, {"b", 0}}, false},
		{"items form", `{"items":[{"name":"a"}]}`, apitypes.List[entry]{{"a", 0}}, false},
		{"items null", `{"items":null}`, nil, true},
		{"array of strings", `["a"]`, nil, true},
		{"single object is not a list", `{"name":"a"}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got apitypes.List[entry]
			err := json.Unmarshal([]byte(tc.body), &got)
			if tc.wantErr {
				if !errors.Is(err, apitypes.ErrShape) {
					t.Fatalf("err = %v, want ErrShape", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

// The spec's items schema (StringItems) has additionalProperties: false, and
// the package promises to accept exactly the documented shapes.
func TestListRejectsItemsWithExtraKeys(t *testing.T) {
	var got apitypes.StringList
	if err := json.Unmarshal([]byte(`{"items":["a"],"extra":1}`), &got); !errors.Is(err, apitypes.ErrShape) {
		t.Fatalf("err = %v (got %#v), want ErrShape", err, got)
	}
}

func TestListMarshal(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil string list", apitypes.StringList(nil), `[]`},
		{"empty string list", apitypes.StringList{}, `[]`},
		{"strings", apitypes.StringList{"a", "b"}, `["a","b"]`},
		{"nil struct list", apitypes.List[entry](nil), `[]`},
		{"structs", apitypes.List[entry]{{"a", 2}}, `[{"name":"a","n":2}]`},
		{"nil list as a field", struct {
			L apitypes.StringList `json:"l"`
		}{}, `{"l":[]}`},
		{"pointer to list", &apitypes.StringList{"x"}, `["x"]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got %s, want %s", b, tc.want)
			}
		})
	}
	t.Run("round trip through items form", func(t *testing.T) {
		var l apitypes.StringList
		if err := json.Unmarshal([]byte(`{"items":["p","q"]}`), &l); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `["p","q"]` {
			t.Fatalf("got %s", b)
		}
	})
}

func TestStringPatch(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		byIndex bool
		byValue bool
		old     string
		new     string
		index   int
		value   string
		wantErr bool
	}{
		{name: "by value", body: `{"old":"a","new":"b"}`, byValue: true, old: "a", new: "b"},
		{name: "by value, empty strings are a shape question only", body: `{"old":"","new":""}`, byValue: true},
		{name: "by index", body: `{"index":2,"value":"z"}`, byIndex: true, index: 2, value: "z"},
		{name: "by index zero", body: `{"index":0,"value":"z"}`, byIndex: true, index: 0, value: "z"},
		{name: "empty object", body: `{}`, wantErr: true},
		{name: "old without new", body: `{"old":"a"}`, wantErr: true},
		{name: "new without old", body: `{"new":"a"}`, wantErr: true},
		{name: "index without value", body: `{"index":1}`, wantErr: true},
		{name: "value without index", body: `{"value":"a"}`, wantErr: true},
		{name: "half of each", body: `{"old":"a","index":1}`, wantErr: true},
		{name: "both shapes at once", body: `{"old":"a","new":"b","index":0,"value":"c"}`, wantErr: true},
		{name: "null fields are absent", body: `{"old":null,"new":null,"index":1,"value":"v"}`, byIndex: true, index: 1, value: "v"},
		{name: "wrong field type", body: `{"index":"1","value":"v"}`, wantErr: true},
		{name: "array", body: `[]`, wantErr: true},
		{name: "scalar", body: `"a"`, wantErr: true},
		{name: "null", body: `null`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p apitypes.StringPatch
			err := json.Unmarshal([]byte(tc.body), &p)
			if tc.wantErr {
				if !errors.Is(err, apitypes.ErrShape) {
					t.Fatalf("err = %v (got %+v), want ErrShape", err, p)
				}
				if p != (apitypes.StringPatch{}) {
					t.Fatalf("a rejected body left %+v behind", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if p.ByIndex() != tc.byIndex || p.ByValue() != tc.byValue {
				t.Fatalf("ByIndex=%v ByValue=%v, want %v %v", p.ByIndex(), p.ByValue(), tc.byIndex, tc.byValue)
			}
			if tc.byValue && (*p.Old != tc.old || *p.New != tc.new) {
				t.Fatalf("old/new = %q/%q, want %q/%q", *p.Old, *p.New, tc.old, tc.new)
			}
			if tc.byIndex && (*p.Index != tc.index || *p.Value != tc.value) {
				t.Fatalf("index/value = %d/%q, want %d/%q", *p.Index, *p.Value, tc.index, tc.value)
			}
		})
	}
	t.Run("marshal writes only the set pair", func(t *testing.T) {
		i, v := 1, "x"
		b, err := json.Marshal(apitypes.StringPatch{Index: &i, Value: &v})
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `{"index":1,"value":"x"}` {
			t.Fatalf("got %s", b)
		}
		var back apitypes.StringPatch
		if err := json.Unmarshal(b, &back); err != nil || !back.ByIndex() {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}

// A body mixing the two shapes matches neither PatchByValue nor PatchByIndex
// in the spec (both have additionalProperties: false). Accepting it is not
// harmless: the handlers take the new value from the by-value pair but
// keylists.PatchString prefers the index, so {"old":"a","new":"b","index":1}
// overwrites item 1 instead of "a" when request validation is off.
func TestStringPatchRejectsMixedShapes(t *testing.T) {
	bodies := []struct{ name, body string }{
		{"by value plus index", `{"old":"a","new":"b","index":1}`},
		{"by index plus old", `{"index":1,"value":"v","old":"a"}`},
		{"by value plus value", `{"old":"a","new":"b","value":"v"}`},
	}
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			var p apitypes.StringPatch
			if err := json.Unmarshal([]byte(tc.body), &p); !errors.Is(err, apitypes.ErrShape) {
				t.Fatalf("err = %v (got %+v), want ErrShape", err, p)
			}
		})
	}
}

func TestExcludedModelsBody(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    apitypes.ExcludedModelsBody
		wantErr bool
	}{
		{"raw map", `{"codex":["gpt-*"],"claude":["a","b"]}`, apitypes.ExcludedModelsBody{"codex": {"gpt-*"}, "claude": {"a", "b"}}, false},
		{"empty raw map", `{}`, apitypes.ExcludedModelsBody{}, false},
		{"items form", `{"items":{"codex":["x"]}}`, apitypes.ExcludedModelsBody{"codex": {"x"}}, false},
		{"items form with space before the object", `{"items":  {"codex":["x"]}}`, apitypes.ExcludedModelsBody{"codex": {"x"}}, false},
		{"empty items form", `{"items":{}}`, apitypes.ExcludedModelsBody{}, false},
		{"items form whose provider is named items", `{"items":{"items":["x"]}}`, apitypes.ExcludedModelsBody{"items": {"x"}}, false},
		{"provider named items with an array is the raw form", `{"items":["x","y"]}`, apitypes.ExcludedModelsBody{"items": {"x", "y"}}, false},
		{"provider named items beside another provider", `{"items":["x"],"codex":["y"]}`, apitypes.ExcludedModelsBody{"items": {"x"}, "codex": {"y"}}, false},
		{"items object beside another key", `{"items":{"codex":["x"]},"claude":["y"]}`, nil, true},
		{"items object with a non-array value", `{"items":{"codex":"x"}}`, nil, true},
		{"raw map with a string value", `{"codex":"x"}`, nil, true},
		{"raw map with numbers", `{"codex":[1]}`, nil, true},
		{"raw map with an object value", `{"codex":{"a":1}}`, nil, true},
		{"array", `[]`, nil, true},
		{"array of strings", `["codex"]`, nil, true},
		{"scalar", `"codex"`, nil, true},
		{"null", `null`, nil, true},
		{"not json", `{codex:}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got apitypes.ExcludedModelsBody
			err := json.Unmarshal([]byte(tc.body), &got)
			if tc.wantErr {
				if !errors.Is(err, apitypes.ErrShape) {
					// encoding/json rejects malformed JSON before our method runs.
					var se *json.SyntaxError
					if !errors.As(err, &se) {
						t.Fatalf("err = %v, want ErrShape", err)
					}
				}
				if got != nil {
					t.Fatalf("a rejected body left %#v behind", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	t.Run("UnmarshalJSON on null directly", func(t *testing.T) {
		var m apitypes.ExcludedModelsBody
		if err := m.UnmarshalJSON([]byte("null")); !errors.Is(err, apitypes.ErrShape) {
			t.Fatalf("err = %v, want ErrShape", err)
		}
	})
}
