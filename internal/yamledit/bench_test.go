package yamledit

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// listSizes are the list lengths the edit benchmarks run at; issue 6 asks
// for the cost of a one-item edit at each.
var listSizes = []int{1_000, 10_000, 100_000}

// listDoc writes a config-like document whose api-keys list holds items,
// with a comment and a second list around it, as an operator's file would.
func listDoc(items []string) string {
	var b strings.Builder
	b.WriteString("# proxy config\nport: 8317\ndebug: false\n\napi-keys:\n")
	for _, it := range items {
		b.WriteString("  - " + it + "\n")
	}
	b.WriteString("\n# upstream keys\ngemini-api-key:\n  - api-key: g-1\n    base-url: https://example.com\n")
	return b.String()
}

func listItems(n int) []string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("key-%07d", i)
	}
	return items
}

// listEdit is one of the ways an API call changes a single list item.
type listEdit struct {
	name  string
	apply func([]string) []string
}

var listEdits = []listEdit{
	{"set", func(s []string) []string {
		out := append([]string(nil), s...)
		out[len(out)/2] = "changed-key"
		return out
	}},
	{"append", func(s []string) []string {
		return append(append([]string(nil), s...), "new-key")
	}},
	{"delete", func(s []string) []string {
		out := append([]string(nil), s[:len(s)/2]...)
		return append(out, s[len(s)/2+1:]...)
	}},
}

// listEditCase prepares the three inputs of Patch for one edit of an
// n-item list; the documents are parsed once, outside any measurement.
func listEditCase(tb testing.TB, n int, e listEdit) (src []byte, oldDoc, newDoc *yaml.Node) {
	tb.Helper()
	items := listItems(n)
	src = []byte(listDoc(items))
	return src, parseDoc(tb, string(src)), parseDoc(tb, listDoc(e.apply(items)))
}

// BenchmarkPatchListEdit measures Patch for a one-item change to a long
// list: the work an API PATCH/DELETE/append does under the store's lock.
func BenchmarkPatchListEdit(b *testing.B) {
	for _, n := range listSizes {
		for _, e := range listEdits {
			b.Run(fmt.Sprintf("%s/n=%d", e.name, n), func(b *testing.B) {
				src, oldDoc, newDoc := listEditCase(b, n, e)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Patch(src, oldDoc, newDoc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestLongListEditIsLinear bounds the memory a one-item edit of a
// 100,000-item list allocates (issue 6: the item-alignment table alone
// needed tens of gigabytes at this size). It counts allocated bytes, not
// time, so it does not depend on the machine's speed.
func TestLongListEditIsLinear(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds a 100,000-item document; runs without -race in make test-scale")
	}
	const limit = 100 << 20
	for _, e := range listEdits {
		t.Run(e.name, func(t *testing.T) {
			src, oldDoc, newDoc := listEditCase(t, 100_000, e)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err := Patch(src, oldDoc, newDoc)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > limit {
				t.Errorf("Patch allocated %d MiB, want at most %d MiB", got>>20, limit>>20)
			}
			// One line changes, is added or goes.
			if d := len(out) - len(src); d < -20 || d > 20 {
				t.Errorf("result is %d bytes longer than the source; want a one-line change", d)
			}
		})
	}
}
