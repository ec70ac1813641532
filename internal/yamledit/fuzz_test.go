package yamledit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzPatch feeds arbitrary sources and documents: Patch must not panic,
// and whatever it returns without error must parse and hold the new values.
func FuzzPatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		c := parseGolden(string(data))
		f.Add(c.sections["input.yaml"], c.sections["old.yaml"], c.sections["new.yaml"])
	}
	f.Fuzz(func(t *testing.T, src, oldYAML, newYAML string) {
		var oldDoc, newDoc yaml.Node
		if yaml.Unmarshal([]byte(oldYAML), &oldDoc) != nil || yaml.Unmarshal([]byte(newYAML), &newDoc) != nil {
			return
		}
		var oldV, newV interface{}
		if yaml.Unmarshal([]byte(oldYAML), &oldV) != nil || yaml.Unmarshal([]byte(newYAML), &newV) != nil {
			return
		}
		check := func(oldYAML string, oldDoc *yaml.Node) {
			out, err := Patch([]byte(src), oldDoc, &newDoc)
			if err != nil {
				return
			}
			dec := yaml.NewDecoder(bytes.NewReader(out))
			for {
				var d yaml.Node
				err := dec.Decode(&d)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("result does not parse: %v\n%q", err, out)
				}
			}
			if err := holdsNew(out, []byte(oldYAML), []byte(newYAML)); err != nil {
				t.Fatalf("%v\n--- src ---\n%q\n--- old ---\n%q\n--- out ---\n%q", err, src, oldYAML, out)
			}
		}
		check(oldYAML, &oldDoc)
		// With src's own document as the old one every old value exists in
		// the text, which drives the splicing paths rather than appends.
		var srcDoc yaml.Node
		if yaml.Unmarshal([]byte(src), &srcDoc) == nil {
			check(src, &srcDoc)
		}
	})
}
