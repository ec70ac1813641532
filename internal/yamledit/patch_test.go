package yamledit

import (
	"strings"
	"testing"
)

func TestPatchEdgeCases(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		old, new string
		want     string // exact result; empty to skip
		method   method
		wantErr  string // substring of the error; empty for success
	}{
		{name: "no diff returns src", src: "a: 'x' # c\n", old: "a: x", new: "a: x", want: "a: 'x' # c\n", method: unchanged},
		{name: "broken src is an error even without diff", src: "a: [", old: "a: 1", new: "a: 1", wantErr: "parse source"},
		{name: "undecodable src", src: "a: !!int x\n", old: "a: 1", new: "a: 2", wantErr: "decode source"},
		{name: "root sequence cannot take keys", src: "- a\n", old: "a: 1", new: "a: 2", wantErr: "not a mapping"},
		{name: "new document must be a mapping", src: "a: 1\n", old: "a: 1", new: "[1]", wantErr: "read new document"},
		{name: "lone CR line breaks are rewritten", src: "a: 1\rb: 2\r", old: "a: 1\nb: 2", new: "a: 1\nb: 3", want: "a: 1\nb: 3\n", method: rewritten},
		{name: "null document", src: "~\n", old: "", new: "a: 1", want: "a: 1\n", method: spliced},
		{name: "delete from missing section is a no-op", src: "a: 1\n", old: "a: 1\nm: {x: 1}", new: "a: 1\nm: {}", want: "a: 1\n", method: spliced},
		{name: "delete last root key", src: "# c\na: 1\n", old: "a: 1", new: "{}", want: "# c\n", method: spliced},
		{name: "file without final newline", src: "a: 1\nl:\n  - x", old: "a: 1\nl: [x]", new: "a: 1\nl: [x, z]\nb: 2", want: "a: 1\nl:\n  - x\n  - z\nb: 2", method: spliced},
		{name: "second document blocks rewrite", src: "a: &x 1\nb: *x\n---\nc: 1\n", old: "a: 1\nb: 1", new: "a: 2\nb: 1", wantErr: "several documents"},
		{name: "tabs as separators", src: "a:\t1\t# c\n", old: "a: 1", new: "a: 2", want: "a:\t2\t# c\n", method: spliced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, how, err := patch([]byte(tt.src), parseDoc(t, tt.old), parseDoc(t, tt.new))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q (result %q)", err, tt.wantErr, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("result = %q, want %q", got, tt.want)
			}
			if how != tt.method {
				t.Errorf("method = %s, want %s", how, tt.method)
			}
			checkHoldsNew(t, got, tt.old, tt.new)
		})
	}
}

func TestPatchReturnsSrcWhenUnchanged(t *testing.T) {
	src := []byte("a: 1\n")
	got, err := Patch(src, parseDoc(t, "a: 1"), parseDoc(t, "a: 1"))
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &src[0] {
		t.Error("Patch copied src although nothing changed")
	}
}
