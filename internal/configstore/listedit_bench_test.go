package configstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// BenchmarkUpdateListEdit measures one API change to one item of a long
// api-keys list end to end in the store (clone, mutate, validate, patch,
// round-trip check, fsync'd write, publish), at the list lengths issue 6
// asks about. Each iteration flips the same item between two values so
// that every Update really writes.
func BenchmarkUpdateListEdit(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var sb strings.Builder
			sb.WriteString("# proxy config\nport: 8317\n\napi-keys:\n")
			for i := range n {
				fmt.Fprintf(&sb, "  - key-%07d\n", i)
			}
			p := filepath.Join(b.TempDir(), "config.yaml")
			if err := os.WriteFile(p, []byte(sb.String()), 0o600); err != nil {
				b.Fatal(err)
			}
			s, err := Open(p, fakeHasher{}, discardLog())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				v := fmt.Sprintf("changed-%d", i%2)
				if _, err := s.Update("", func(c *config.Config) error { c.APIKeys[n/2] = v; return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
