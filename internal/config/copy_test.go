package config

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/cli-proxy-api/cli-proxy-api/internal/testutil"
)

func TestDeepCopyIsExactAndIndependent(t *testing.T) {
	t.Parallel() // CPU-bound and independent
	r := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		var cfg Config
		fill(r, reflect.ValueOf(&cfg).Elem(), trickyStrings, 0)
		before, err := yaml.Marshal(&cfg)
		if err != nil {
			continue // strings yaml.v3 cannot write; the copy is still checked below
		}
		cp := cfg.DeepCopy()
		if !reflect.DeepEqual(cp, &cfg) {
			t.Fatalf("copy differs:\n%s", before)
		}
		// Overwriting everything in the copy leaves the original alone.
		testutil.Scribble(reflect.ValueOf(cp).Elem())
		after, _ := yaml.Marshal(&cfg)
		if string(after) != string(before) {
			t.Fatalf("changing the copy changed the original")
		}
	}
	if (*Config)(nil).DeepCopy() != nil {
		t.Fatal("nil copy")
	}
}
