package yamledit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// scalarCtx is where a scalar's text will stand; what parses back correctly
// differs between them.
type scalarCtx int

const (
	inBlock   scalarCtx = iota // after "key: " or "- "
	inFlow                     // inside [...] or {...}
	asKey                      // block mapping key
	asFlowKey                  // flow mapping key
)

// renderScalar writes n as one line of text, trying prefer's quoting first,
// then plain, then double quotes; the first spelling that parses back to
// n's tag and value in ctx wins.
func renderScalar(n *yaml.Node, prefer yaml.Style, ctx scalarCtx) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("render scalar: node is a %s", kindName(n.Kind))
	}
	for _, c := range scalarCandidates(n, prefer) {
		if fits(c, n, ctx) {
			return c, nil
		}
	}
	return "", fmt.Errorf("render scalar %q: no spelling parses back", n.Value)
}

func scalarCandidates(n *yaml.Node, prefer yaml.Style) []string {
	v := n.Value
	var out []string
	add := func(s string, ok bool) {
		if ok {
			out = append(out, s)
		}
	}
	singleLine := !strings.ContainsAny(v, "\r\n")
	if n.ShortTag() == "!!str" {
		switch {
		case prefer&yaml.SingleQuotedStyle != 0:
			add(singleQuoted(v))
		case prefer&yaml.DoubleQuotedStyle != 0:
			add(doubleQuoted(v))
		}
		add(v, v != "" && singleLine)
		add(doubleQuoted(v))
	} else {
		plain := v
		if plain == "" && n.ShortTag() == "!!null" {
			plain = "null"
		}
		add(plain, plain != "" && singleLine)
	}
	// Other tags (binary, custom) are best left to yaml.v3's own spelling.
	if b, err := yaml.Marshal(n); err == nil {
		s := strings.TrimSuffix(string(b), "\n")
		add(s, s != "" && !strings.Contains(s, "\n"))
	}
	return out
}

// fits reports whether text, standing in ctx, parses back to n.
func fits(text string, n *yaml.Node, ctx scalarCtx) bool {
	var doc string
	switch ctx {
	case inBlock:
		doc = "k: " + text
	case inFlow:
		doc = "[" + text + "]"
	case asKey:
		doc = text + ": 0"
	case asFlowKey:
		doc = "{" + text + ": 0}"
	}
	var d yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &d); err != nil || len(d.Content) != 1 {
		return false
	}
	root := d.Content[0]
	var got *yaml.Node
	switch {
	case ctx == inFlow && root.Kind == yaml.SequenceNode && len(root.Content) == 1:
		got = root.Content[0]
	case ctx == inBlock && root.Kind == yaml.MappingNode && len(root.Content) == 2:
		got = root.Content[1]
	case (ctx == asKey || ctx == asFlowKey) && root.Kind == yaml.MappingNode && len(root.Content) == 2:
		got = root.Content[0]
	default:
		return false
	}
	if got.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 && got.ShortTag() == "!!str" && isYAML11Bool(got.Value) {
		// yaml.v3 reads these as strings, but YAML 1.1 tools (and yaml.v3's
		// own encoder) treat them as booleans; quote them like it does.
		return false
	}
	return got.Kind == yaml.ScalarNode && got.Anchor == "" && got.ShortTag() == n.ShortTag() && Equal(got, n)
}

func isYAML11Bool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF":
		return true
	}
	return false
}

// isPrintable follows YAML's c-printable set.
func isPrintable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0x7E:
		return true
	case r == 0x85:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return r != 0xFEFF
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

func singleQuoted(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		// Line breaks inside single quotes fold, and tabs are easy to mangle.
		if !isPrintable(r) || r == '\n' || r == '\r' || r == '\t' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return "", false
		}
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'", true
}

func doubleQuoted(s string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		case 0x07:
			b.WriteString(`\a`)
		case 0x08:
			b.WriteString(`\b`)
		case 0x0B:
			b.WriteString(`\v`)
		case 0x0C:
			b.WriteString(`\f`)
		case 0x1B:
			b.WriteString(`\e`)
		case 0x85:
			b.WriteString(`\N`)
		case 0x2028:
			b.WriteString(`\L`)
		case 0x2029:
			b.WriteString(`\P`)
		default:
			switch {
			case isPrintable(r):
				b.WriteRune(r)
			case r <= 0xFF:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r <= 0xFFFF:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String(), true
}

// literal splits a multi-line string into a "|" block header and its body
// lines (unindented), when a literal block can hold it exactly.
func literal(s string) (header string, body []string, ok bool) {
	if !strings.Contains(s, "\n") || !utf8.ValidString(s) {
		return "", nil, false
	}
	for _, r := range s {
		if !isPrintable(r) || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return "", nil, false
		}
	}
	header = "|-"
	trimmed := s
	if strings.HasSuffix(s, "\n") {
		header = "|"
		trimmed = s[:len(s)-1]
		if strings.HasSuffix(trimmed, "\n") {
			// Keeping several trailing breaks ("|+") would swallow the blank
			// lines that follow in the file.
			return "", nil, false
		}
	}
	body = strings.Split(trimmed, "\n")
	for _, l := range body {
		if l == "" {
			continue
		}
		// Leading white space on the first content line would need an
		// indentation indicator; only blank lines may come before it.
		if l[0] == ' ' || l[0] == '\t' {
			return "", nil, false
		}
		break
	}
	return header, body, true
}

func pad(n int) string { return strings.Repeat(" ", n) }

// indentBody indents literal body lines, leaving empty lines empty.
func indentBody(body []string, indent int) []string {
	out := make([]string, len(body))
	for i, l := range body {
		if l != "" {
			out[i] = pad(indent) + l
		}
	}
	return out
}

// renderFlow writes n on one line in flow style.
func renderFlow(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return renderScalar(n, n.Style, inFlow)
	case yaml.SequenceNode:
		items := make([]string, len(n.Content))
		for i, c := range n.Content {
			s, err := renderFlow(c)
			if err != nil {
				return "", err
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case yaml.MappingNode:
		pairs := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := renderScalar(n.Content[i], n.Content[i].Style, asFlowKey)
			if err != nil {
				return "", err
			}
			v, err := renderFlow(n.Content[i+1])
			if err != nil {
				return "", err
			}
			pairs = append(pairs, k+": "+v)
		}
		return "{" + strings.Join(pairs, ", ") + "}", nil
	}
	return "", fmt.Errorf("render flow: cannot write a %s", kindName(n.Kind))
}

// renderer writes block-style YAML in a file's layout.
type renderer struct{ layout }

// block renders a non-empty mapping or sequence as lines indented by indent.
func (r renderer) block(n *yaml.Node, indent int) ([]string, error) {
	var lines []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := renderScalar(n.Content[i], n.Content[i].Style, asKey)
			if err != nil {
				return nil, err
			}
			ls, err := r.after(pad(indent)+k+":", n.Content[i+1], indent, false)
			if err != nil {
				return nil, err
			}
			lines = append(lines, ls...)
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			ls, err := r.after(pad(indent)+"-", item, indent, true)
			if err != nil {
				return nil, err
			}
			lines = append(lines, ls...)
		}
	default:
		return nil, fmt.Errorf("render block: cannot write a %s", kindName(n.Kind))
	}
	return lines, nil
}

// after renders v as the value following head ("key:" or "-"), where
// indent is the column of the key or dash.
func (r renderer) after(head string, v *yaml.Node, indent int, item bool) ([]string, error) {
	switch {
	case v.Kind == yaml.ScalarNode:
		if v.ShortTag() == "!!str" && v.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			if h, body, ok := literal(v.Value); ok {
				return append([]string{head + " " + h}, indentBody(body, indent+r.unit)...), nil
			}
		}
		s, err := renderScalar(v, v.Style, inBlock)
		if err != nil {
			return nil, err
		}
		return []string{head + " " + s}, nil
	case len(v.Content) == 0 || v.Style&yaml.FlowStyle != 0:
		s, err := renderFlow(v)
		if err != nil {
			return nil, err
		}
		return []string{head + " " + s}, nil
	case item:
		// The item's first line shares the dash's line: "- key: value", "- - a".
		sub, err := r.block(v, indent+r.itemOff)
		if err != nil {
			return nil, err
		}
		sub[0] = head + pad(r.itemOff-1) + strings.TrimLeft(sub[0], " ")
		return sub, nil
	case v.Kind == yaml.MappingNode:
		sub, err := r.block(v, indent+r.unit)
		return append([]string{head}, sub...), err
	case v.Kind == yaml.SequenceNode:
		sub, err := r.block(v, indent+r.seqOff)
		return append([]string{head}, sub...), err
	}
	return nil, fmt.Errorf("render value: cannot write a %s", kindName(v.Kind))
}
