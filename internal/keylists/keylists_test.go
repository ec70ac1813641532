package keylists

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

func strp(s string) *string { return &s }
func intp(i int) *int       { return &i }

// wantErr checks err against an expected kind and message fragment; kind < 0
// means no error is expected.
func wantErr(t *testing.T, err error, kind errs.Kind, fragment string) {
	t.Helper()
	if kind < 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want %v error containing %q, got nil", kind, fragment)
	}
	if got := errs.KindOf(err); got != kind {
		t.Fatalf("kind = %v, want %v (err %v)", got, kind, err)
	}
	if !strings.Contains(err.Error(), fragment) {
		t.Fatalf("error %q does not contain %q", err.Error(), fragment)
	}
	// Every message here is meant for the client.
	if errs.Message(err) == "" {
		t.Fatalf("error %v carries no client-safe message", err)
	}
}

const noErr errs.Kind = -1

func TestCheckIndex(t *testing.T) {
	tests := []struct {
		name     string
		i, n     int
		kind     errs.Kind
		fragment string
	}{
		{"first of one", 0, 1, noErr, ""},
		{"last of three", 2, 3, noErr, ""},
		{"empty list", 0, 0, errs.Invalid, "index 0 is out of range: the list is empty"},
		{"negative on empty list", -1, 0, errs.Invalid, "index -1 is out of range: the list is empty"},
		{"one past the end", 3, 3, errs.Invalid, "index 3 is out of range: the list has 3 items (0 to 2)"},
		{"negative", -1, 2, errs.Invalid, "index -1 is out of range: the list has 2 items (0 to 1)"},
		{"single item range", 5, 1, errs.Invalid, "the list has 1 items (0 to 0)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, CheckIndex(tc.i, tc.n), tc.kind, tc.fragment)
		})
	}
}

func TestFind(t *testing.T) {
	list := []string{"a", "b", "b", "c"}
	tests := []struct {
		name string
		want string
		pos  int
		err  bool
	}{
		{"first item", "a", 0, false},
		{"first of duplicates", "b", 1, false},
		{"last item", "c", 3, false},
		{"absent", "z", -1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pos, err := Find(list, func(v string) bool { return v == tc.want })
			if pos != tc.pos {
				t.Fatalf("pos = %d, want %d", pos, tc.pos)
			}
			if tc.err {
				if !errors.Is(err, ErrNotFound) || errs.KindOf(err) != errs.NotFound {
					t.Fatalf("err = %v, want ErrNotFound", err)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
	t.Run("nil list", func(t *testing.T) {
		if _, err := Find[int](nil, func(int) bool { return true }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestRemoveMatching(t *testing.T) {
	tests := []struct {
		name string
		in   []int
		drop int
		want []int
		err  bool
	}{
		{"removes every match", []int{1, 2, 1, 3, 1}, 1, []int{2, 3}, false},
		{"removes the only item", []int{7}, 7, []int{}, false},
		{"none match", []int{1, 2}, 9, nil, true},
		{"empty list", nil, 1, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]int(nil), tc.in...)
			got, err := RemoveMatching(tc.in, func(v int) bool { return v == tc.drop })
			if tc.err {
				if !errors.Is(err, ErrNotFound) || errs.KindOf(err) != errs.NotFound || got != nil {
					t.Fatalf("got %v, %v; want nil, ErrNotFound", got, err)
				}
			} else {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
			if !reflect.DeepEqual(tc.in, orig) {
				t.Fatalf("input mutated: %v, was %v", tc.in, orig)
			}
		})
	}
}

func TestRemoveAt(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		i        int
		want     []string
		kind     errs.Kind
		fragment string
	}{
		{"first", []string{"a", "b", "c"}, 0, []string{"b", "c"}, noErr, ""},
		{"middle", []string{"a", "b", "c"}, 1, []string{"a", "c"}, noErr, ""},
		{"last", []string{"a", "b", "c"}, 2, []string{"a", "b"}, noErr, ""},
		{"only", []string{"a"}, 0, []string{}, noErr, ""},
		{"out of range", []string{"a", "b"}, 2, nil, errs.Invalid, "the list has 2 items (0 to 1)"},
		{"negative", []string{"a"}, -1, nil, errs.Invalid, "index -1 is out of range"},
		{"empty", nil, 0, nil, errs.Invalid, "the list is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.in...)
			got, err := RemoveAt(tc.in, tc.i)
			wantErr(t, err, tc.kind, tc.fragment)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.in, orig) {
				t.Fatalf("input mutated: %v, was %v", tc.in, orig)
			}
		})
	}
}

func TestSelectorChoose(t *testing.T) {
	tests := []struct {
		name      string
		sel       Selector
		value     string
		index     int
		byIndex   bool
		kind      errs.Kind
		fragment  string
		wantEmpty bool
	}{
		{name: "value", sel: Selector{Value: strp("k1")}, value: "k1"},
		{name: "value is trimmed", sel: Selector{Value: strp("  k1\t")}, value: "k1"},
		{name: "index", sel: Selector{Index: intp(3)}, index: 3, byIndex: true},
		{name: "index zero", sel: Selector{Index: intp(0)}, index: 0, byIndex: true},
		{name: "negative index is passed on for CheckIndex", sel: Selector{Index: intp(-2)}, index: -2, byIndex: true},
		{name: "both", sel: Selector{Value: strp("k1"), Index: intp(0)}, kind: errs.Invalid, fragment: "give either api-key or index, not both"},
		{name: "blank value", sel: Selector{Value: strp("   ")}, kind: errs.Invalid, fragment: "api-key must not be empty"},
		{name: "empty value", sel: Selector{Value: strp("")}, kind: errs.Invalid, fragment: "api-key must not be empty"},
		{name: "blank value with index", sel: Selector{Value: strp(" "), Index: intp(0)}, kind: errs.Invalid, fragment: "give either api-key or index, not both"},
		{name: "neither", sel: Selector{}, kind: errs.Invalid, fragment: "missing api-key or index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kind := tc.kind
			if tc.fragment == "" {
				kind = noErr
			}
			value, index, byIndex, err := tc.sel.Choose("api-key")
			wantErr(t, err, kind, tc.fragment)
			if value != tc.value || index != tc.index || byIndex != tc.byIndex {
				t.Fatalf("got (%q, %d, %v), want (%q, %d, %v)", value, index, byIndex, tc.value, tc.index, tc.byIndex)
			}
		})
	}
}

func TestNonEmpty(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"plain", "x", "x", false},
		{"trimmed", " \tx y \n", "x y", false},
		{"empty", "", "", true},
		{"blank", " \t\n", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NonEmpty("name", tc.in)
			if tc.err {
				wantErr(t, err, errs.Invalid, "name must not be empty")
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReplaceStrings(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		want     []string
		fragment string
	}{
		{"trims and keeps order", []string{" b ", "a", "c\t"}, []string{"b", "a", "c"}, ""},
		{"duplicates merged first kept", []string{"a", "b", " a", "b", "c"}, []string{"a", "b", "c"}, ""},
		{"empty list", []string{}, []string{}, ""},
		{"nil list", nil, []string{}, ""},
		{"empty item names its index", []string{"a", "", "b"}, nil, "item 1: api-key must not be empty"},
		{"blank item names its index", []string{"a", "b", "  "}, nil, "item 2: api-key must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReplaceStrings("api-key", tc.in)
			if tc.fragment != "" {
				wantErr(t, err, errs.Invalid, tc.fragment)
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestPatchString(t *testing.T) {
	base := []string{"a", "b", "c"}
	tests := []struct {
		name     string
		old      *string
		index    *int
		value    string
		want     []string
		kind     errs.Kind
		fragment string
	}{
		{name: "by old", old: strp("b"), value: "B", want: []string{"a", "B", "c"}, kind: noErr},
		{name: "by old, both trimmed", old: strp(" c "), value: " C ", want: []string{"a", "b", "C"}, kind: noErr},
		{name: "by index", index: intp(0), value: "z", want: []string{"z", "b", "c"}, kind: noErr},
		{name: "index wins over old", old: strp("c"), index: intp(1), value: "z", want: []string{"a", "z", "c"}, kind: noErr},
		{name: "same value at the same place is allowed", index: intp(1), value: "b", want: []string{"a", "b", "c"}, kind: noErr},
		{name: "old not found", old: strp("x"), value: "y", kind: errs.NotFound, fragment: "item not found"},
		{name: "neither old nor index", value: "y", kind: errs.NotFound, fragment: "item not found"},
		{name: "index out of range", index: intp(3), value: "y", kind: errs.Invalid, fragment: "index 3 is out of range: the list has 3 items (0 to 2)"},
		{name: "negative index", index: intp(-1), value: "y", kind: errs.Invalid, fragment: "index -1 is out of range"},
		{name: "empty new", old: strp("a"), value: "  ", kind: errs.Invalid, fragment: "api-key must not be empty"},
		{name: "duplicate elsewhere by old", old: strp("a"), value: "c", kind: errs.Invalid, fragment: "api-key is already in the list at index 2"},
		{name: "duplicate elsewhere by index, after trimming", index: intp(2), value: " a ", kind: errs.Invalid, fragment: "api-key is already in the list at index 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := append([]string(nil), base...)
			got, err := PatchString("api-key", list, tc.old, tc.index, tc.value)
			wantErr(t, err, tc.kind, tc.fragment)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			if !reflect.DeepEqual(list, base) {
				t.Fatalf("input mutated: %v", list)
			}
		})
	}
	t.Run("empty list by index", func(t *testing.T) {
		_, err := PatchString("api-key", nil, nil, intp(0), "x")
		wantErr(t, err, errs.Invalid, "the list is empty")
	})
}

func TestDeleteString(t *testing.T) {
	base := []string{"a", "b", "a", "c"}
	tests := []struct {
		name     string
		sel      Selector
		want     []string
		kind     errs.Kind
		fragment string
	}{
		{name: "by value removes every copy", sel: Selector{Value: strp("a")}, want: []string{"b", "c"}, kind: noErr},
		{name: "by trimmed value", sel: Selector{Value: strp(" c ")}, want: []string{"a", "b", "a"}, kind: noErr},
		{name: "by index removes one", sel: Selector{Index: intp(2)}, want: []string{"a", "b", "c"}, kind: noErr},
		{name: "value not found", sel: Selector{Value: strp("x")}, kind: errs.NotFound, fragment: "item not found"},
		{name: "index out of range", sel: Selector{Index: intp(4)}, kind: errs.Invalid, fragment: "the list has 4 items (0 to 3)"},
		{name: "both", sel: Selector{Value: strp("a"), Index: intp(0)}, kind: errs.Invalid, fragment: "give either api-key or index, not both"},
		{name: "neither", sel: Selector{}, kind: errs.Invalid, fragment: "missing api-key or index"},
		{name: "blank value", sel: Selector{Value: strp(" ")}, kind: errs.Invalid, fragment: "api-key must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := append([]string(nil), base...)
			got, err := DeleteString("api-key", list, tc.sel)
			wantErr(t, err, tc.kind, tc.fragment)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
			if !reflect.DeepEqual(list, base) {
				t.Fatalf("input mutated: %v", list)
			}
		})
	}
}
