package yamledit

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestPatchSourceMatchesPatch runs every golden case through ParseSource
// and PatchSource: the result must be Patch's, and the parse it comes with
// must be exactly a fresh parse of its bytes, so that a caller may use it
// instead of parsing again (and patch it in turn).
func TestPatchSourceMatchesPatch(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c := parseGolden(string(data))
			input := []byte(c.sections["input.yaml"])
			oldDoc, newDoc := parseDoc(t, c.sections["old.yaml"]), parseDoc(t, c.sections["new.yaml"])
			want, err := Patch(input, oldDoc, newDoc)
			if err != nil {
				t.Fatal(err)
			}
			src, err := ParseSource(input)
			if err != nil {
				t.Fatal(err)
			}
			res, err := PatchSource(src, oldDoc, newDoc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(res.Bytes(), want) {
				t.Fatalf("PatchSource gives\n%s\nPatch gives\n%s", res.Bytes(), want)
			}
			checkSourceParse(t, res)
			if bytes.Equal(want, input) && res != src {
				t.Error("an unchanged source is not returned as it is")
			}
			// Patching the result back goes through the parse verify made.
			back, err := PatchSource(res, newDoc, oldDoc)
			if err != nil {
				t.Fatal(err)
			}
			wantBack, err := Patch(want, newDoc, oldDoc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.Bytes(), wantBack) {
				t.Fatalf("patching the result back: PatchSource gives\n%s\nPatch gives\n%s", back.Bytes(), wantBack)
			}
			checkSourceParse(t, back)
		})
	}
}

func checkSourceParse(t *testing.T, s *Source) {
	t.Helper()
	fresh, err := ParseSource(s.Bytes())
	if err != nil {
		t.Fatalf("result does not parse: %v", err)
	}
	if !reflect.DeepEqual(s.Doc(), fresh.Doc()) || s.more != fresh.more {
		t.Fatalf("the parse returned with the result differs from a fresh parse of it")
	}
}

func TestKnownToDecode(t *testing.T) {
	src, err := ParseSource([]byte("a: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	src.decoded = false
	marked := src.KnownToDecode()
	if src.decoded || !marked.decoded || marked.Doc() != src.Doc() || !bytes.Equal(marked.Bytes(), src.Bytes()) {
		t.Fatal("KnownToDecode must mark a copy and share the parse")
	}
}
