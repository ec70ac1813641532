package mgmt_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// seedOperation finds "GET /path", "PUT/PATCH /path" and "POST `/path`" in
// the seed documents (copies of the documents the API was specified from).
var seedOperation = regexp.MustCompile("\\b((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*)\\s+`?(/[A-Za-z0-9._\\-/:{}]*)")

var pathParamAny = regexp.MustCompile(`\{[^}]+\}|:[A-Za-z_]+`)

// TestEverySeedOperationIsInTheSpec keeps an operation of the seeds from
// hiding behind "no 501 left": each must be in the spec.
func TestEverySeedOperationIsInTheSpec(t *testing.T) {
	files, err := filepath.Glob("testdata/seeds/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("seed documents: %v", err)
	}
	inSpec := map[string]bool{}
	for path, item := range contractSpec.Paths.Map() {
		for method := range item.Operations() {
			inSpec[method+" "+pathParamAny.ReplaceAllString(path, "*")] = true
		}
	}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range seedOperation.FindAllStringSubmatch(string(b), -1) {
			path := strings.TrimRight(m[2], "/")
			if strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v1beta/") {
				continue // proxied API paths quoted as usage keys, not management operations
			}
			for _, method := range strings.Split(m[1], "/") {
				seen++
				if key := method + " " + pathParamAny.ReplaceAllString(path, "*"); !inSpec[key] {
					t.Errorf("%s: %s %s is not in the spec", filepath.Base(f), method, path)
				}
			}
		}
	}
	if seen < 100 {
		t.Fatalf("only %d operations found in the seeds; the pattern no longer matches them", seen)
	}
}
