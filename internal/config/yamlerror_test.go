package config

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDescribeYAMLErrorNamesTheRightLine(t *testing.T) {
	tests := []struct {
		name, doc string
		line      string // the line the message must name and show
	}{
		{"unclosed flow list", "port: 1\napi-keys: [a, b\ndebug: true\n", "2 | api-keys: [a, b"},
		{"unclosed flow map", "a: 1\nb: {x: 1\nc: 3\n", "2 | b: {x: 1"},
		{"dash in a mapping", "a: 1\n- b\n", "2 | - b"},
		{"bad indentation", "a: 1\nb:\n  c: 1\n d: 2\n", "4 |  d: 2"},
		{"scanner: mapping value", "port: 1\nb: c: d\n", "2 | b: c: d"},
		{"scanner: bad token", "a: 1\nb: @x\n", "2 | b: @x"},
		{"scanner: bad escape", "a: 1\nb: \"\\q\"\n", `2 | b: "\q"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n yaml.Node
			err := yaml.Unmarshal([]byte(tc.doc), &n)
			if err == nil {
				t.Fatal("document parsed")
			}
			msg := describeYAMLError([]byte(tc.doc), err).Error()
			want := "line " + strings.SplitN(tc.line, " ", 2)[0] + ":"
			if !strings.HasPrefix(msg, want) || !strings.Contains(msg, tc.line) {
				t.Fatalf("message %q, want %q and the line %q", msg, want, tc.line)
			}
		})
	}
}

func TestDescribeYAMLErrorMasksValues(t *testing.T) {
	doc := "port: 1\napi-keys: [sk-live-abcdefghijklmnop, b\n"
	var n yaml.Node
	err := describeYAMLError([]byte(doc), yaml.Unmarshal([]byte(doc), &n))
	if strings.Contains(err.Error(), "abcdefghijklmnop") || !strings.Contains(err.Error(), "api-keys: [sk…") {
		t.Fatalf("message %q", err)
	}
}

func TestParseReportsTheRightLine(t *testing.T) {
	_, _, err := Parse([]byte("# comment\nport: 1\napi-keys: [a, b\ndebug: true\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3: did not find expected ',' or ']'") || !strings.Contains(err.Error(), "3 | api-keys: [a, b") {
		t.Fatalf("err = %v", err)
	}
}
