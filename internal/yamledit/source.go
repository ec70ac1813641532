package yamledit

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// text indexes a YAML source so that yaml.v3's marks (1-based line, 1-based
// column counted in runes) become byte offsets, and so that spans of nodes,
// which yaml.v3 does not record, can be measured by scanning.
type text struct {
	src   []byte
	lines []int // byte offset where each line starts; line 0 starts after a BOM
}

var errLineBreaks = errors.New("source uses line breaks other than LF and CRLF")

const utf8BOM = "\xEF\xBB\xBF"

func newText(src []byte) (*text, error) {
	// One slot per line, counted first: growing the slice as lines are
	// found allocated several times the final size for long files.
	t := &text{src: src, lines: make([]int, 0, bytes.Count(src, []byte{'\n'})+1)}
	start := 0
	if bytes.HasPrefix(src, []byte(utf8BOM)) {
		// yaml.v3 does not count the BOM as a column.
		start = len(utf8BOM)
	}
	t.lines = append(t.lines, start)
	for i := start; i < len(src); i++ {
		switch src[i] {
		case '\n':
			t.lines = append(t.lines, i+1)
		case '\r':
			// yaml.v3 also breaks at a lone CR, NEL, LS and PS; lines
			// counted here would drift from its marks.
			if i+1 >= len(src) || src[i+1] != '\n' {
				return nil, errLineBreaks
			}
		case 0xC2:
			if i+1 < len(src) && src[i+1] == 0x85 {
				return nil, errLineBreaks
			}
		case 0xE2:
			if i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xA8 || src[i+2] == 0xA9) {
				return nil, errLineBreaks
			}
		case 0xFE, 0xFF, 0:
			// UTF-16 input is converted by yaml.v3, so its marks do not map to these bytes.
			return nil, errors.New("source is not UTF-8")
		}
	}
	return t, nil
}

func (t *text) lineCount() int { return len(t.lines) }

func (t *text) lineStart(l int) int { return t.lines[l] }

// lineEnd is the offset just before line l's line break.
func (t *text) lineEnd(l int) int {
	if l+1 >= len(t.lines) {
		return len(t.src)
	}
	e := t.lines[l+1] - 1
	if e > t.lines[l] && t.src[e-1] == '\r' {
		e--
	}
	return e
}

// lineNext is the offset where the line after l starts (or the end of src).
func (t *text) lineNext(l int) int {
	if l+1 >= len(t.lines) {
		return len(t.src)
	}
	return t.lines[l+1]
}

// lineOf returns the 0-based line holding offset off.
func (t *text) lineOf(off int) int {
	return sort.Search(len(t.lines), func(i int) bool { return t.lines[i] > off }) - 1
}

// column returns the 0-based rune column of off within its line.
func (t *text) column(off int) int {
	return utf8.RuneCount(t.src[t.lineStart(t.lineOf(off)):off])
}

// indentOf counts the spaces that start line l.
func (t *text) indentOf(l int) int {
	i := t.lineStart(l)
	for i < len(t.src) && t.src[i] == ' ' {
		i++
	}
	return i - t.lineStart(l)
}

// offset converts a node's mark into a byte offset.
func (t *text) offset(n *yaml.Node) (int, error) {
	l := n.Line - 1
	if l < 0 || l >= len(t.lines) || n.Column < 1 {
		return 0, fmt.Errorf("locate node at %d:%d: outside the source", n.Line, n.Column)
	}
	off, end := t.lineStart(l), t.lineEnd(l)
	for c := 1; c < n.Column; c++ {
		if off >= end {
			return 0, fmt.Errorf("locate node at %d:%d: past the end of its line", n.Line, n.Column)
		}
		_, w := utf8.DecodeRune(t.src[off:end])
		off += w
	}
	return off, nil
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (t *text) skipBlanks(i int) int {
	for i < len(t.src) && isBlank(t.src[i]) {
		i++
	}
	return i
}

// nextToken skips white space, line breaks and comments from i.
func (t *text) nextToken(i int) int {
	for i < len(t.src) {
		c := t.src[i]
		switch {
		case isSpace(c):
			i++
		case c == '#' && (i == 0 || isSpace(t.src[i-1])):
			i = t.lineEnd(t.lineOf(i))
		default:
			return i
		}
	}
	return i
}

// contentEnd finds where the content of [from, to) on one line ends: before
// a comment and before trailing blanks. It also says whether a comment followed.
func (t *text) contentEnd(from, to int) (int, bool) {
	end, comment := to, false
	for i := from; i < to; i++ {
		if t.src[i] == '#' && i > from && isBlank(t.src[i-1]) {
			end, comment = i, true
			break
		}
	}
	for end > from && isBlank(t.src[end-1]) {
		end--
	}
	return end, comment
}

// nodeStart returns where n's content begins (past any anchor or tag) and
// where its properties end (equal to start when it has none).
func (t *text) nodeStart(n *yaml.Node, flow bool) (start, propsEnd int, err error) {
	pos, err := t.offset(n)
	if err != nil {
		return 0, 0, err
	}
	propsEnd = pos
	for pos < len(t.src) && (t.src[pos] == '&' || t.src[pos] == '!') {
		if bytes.HasPrefix(t.src[pos:], []byte("!<")) {
			j := bytes.IndexByte(t.src[pos:], '>')
			if j < 0 {
				return 0, 0, fmt.Errorf("scan tag at %d:%d: unterminated", n.Line, n.Column)
			}
			pos += j + 1
		}
		for pos < len(t.src) && !isSpace(t.src[pos]) && !(flow && isFlowIndicator(t.src[pos])) {
			pos++
		}
		propsEnd = pos
		pos = t.skipBlanks(pos)
		if pos < len(t.src) && (t.src[pos] == '#' || t.src[pos] == '\r' || t.src[pos] == '\n') {
			// Content continues on a later line.
			pos = t.nextToken(pos)
		}
	}
	return pos, propsEnd, nil
}

func isFlowIndicator(c byte) bool {
	return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'
}

// nodeEnd returns the offset just past n's last content byte. indent is the
// indentation of the collection holding n (-1 at the document root); plain
// and block scalars need it to know where they stop.
func (t *text) nodeEnd(n *yaml.Node, indent int, flow bool) (int, error) {
	start, propsEnd, err := t.nodeStart(n, flow)
	if err != nil {
		return 0, err
	}
	switch n.Kind {
	case yaml.AliasNode:
		name := []byte("*" + n.Value)
		if !bytes.HasPrefix(t.src[start:], name) {
			return 0, fmt.Errorf("scan alias at %d:%d: text differs", n.Line, n.Column)
		}
		return start + len(name), nil
	case yaml.ScalarNode:
		return t.scalarEnd(n, start, propsEnd, indent, flow)
	case yaml.MappingNode, yaml.SequenceNode:
		if n.Style&yaml.FlowStyle != 0 {
			return t.flowEnd(start)
		}
		if len(n.Content) == 0 {
			return 0, fmt.Errorf("scan collection at %d:%d: empty block collection", n.Line, n.Column)
		}
		childIndent := t.column(start)
		if n.Kind == yaml.MappingNode {
			ks, _, err := t.nodeStart(n.Content[0], false)
			if err != nil {
				return 0, err
			}
			childIndent = t.column(ks)
		}
		return t.nodeEnd(n.Content[len(n.Content)-1], childIndent, false)
	}
	return 0, fmt.Errorf("scan node at %d:%d: unexpected %s", n.Line, n.Column, kindName(n.Kind))
}

func (t *text) scalarEnd(n *yaml.Node, start, propsEnd, indent int, flow bool) (int, error) {
	src := t.src
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		if start >= len(src) || (src[start] != '|' && src[start] != '>') {
			return 0, fmt.Errorf("scan block scalar at %d:%d: no header", n.Line, n.Column)
		}
		return t.blockScalarEnd(start, indent), nil
	case n.Style&yaml.SingleQuotedStyle != 0:
		if start >= len(src) || src[start] != '\'' {
			return 0, fmt.Errorf("scan quoted scalar at %d:%d: no quote", n.Line, n.Column)
		}
		return t.singleQuotedEnd(start)
	case n.Style&yaml.DoubleQuotedStyle != 0:
		if start >= len(src) || src[start] != '"' {
			return 0, fmt.Errorf("scan quoted scalar at %d:%d: no quote", n.Line, n.Column)
		}
		return t.doubleQuotedEnd(start)
	}
	if n.Value == "" {
		return propsEnd, nil
	}
	// A plain scalar has no escapes, so if its value is spelled out verbatim
	// it is the whole scalar; any folded line break would break the match.
	if bytes.HasPrefix(src[start:], []byte(n.Value)) {
		return start + len(n.Value), nil
	}
	if flow {
		return 0, fmt.Errorf("scan plain scalar at %d:%d: spans lines in a flow collection", n.Line, n.Column)
	}
	return t.plainEnd(start, indent), nil
}

func (t *text) doubleQuotedEnd(start int) (int, error) {
	for i := start + 1; i < len(t.src); i++ {
		switch t.src[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errors.New("scan quoted scalar: unterminated")
}

func (t *text) singleQuotedEnd(start int) (int, error) {
	for i := start + 1; i < len(t.src); i++ {
		if t.src[i] == '\'' {
			if i+1 < len(t.src) && t.src[i+1] == '\'' {
				i++
				continue
			}
			return i + 1, nil
		}
	}
	return 0, errors.New("scan quoted scalar: unterminated")
}

// plainEnd measures a plain scalar folded over several lines: continuation
// lines are indented deeper than the holding collection and end at a comment.
func (t *text) plainEnd(start, indent int) int {
	l := t.lineOf(start)
	end, comment := t.contentEnd(start, t.lineEnd(l))
	if comment {
		return end
	}
	for l++; l < t.lineCount(); l++ {
		ls, le := t.lineStart(l), t.lineEnd(l)
		ind := t.indentOf(l)
		first := t.skipBlanks(ls + ind)
		if first >= le {
			continue
		}
		if t.src[first] == '#' || ind <= indent || (ind == 0 && t.isDocMarker(l)) {
			break
		}
		e, comment := t.contentEnd(first, le)
		end = e
		if comment {
			break
		}
	}
	return end
}

// blockScalarEnd measures a literal or folded scalar whose header starts at
// start: its content lines are the following lines indented at least as far
// as the first non-empty one. Trailing empty lines are left outside the span.
func (t *text) blockScalarEnd(start, indent int) int {
	i := start + 1
	explicit := 0
	for i < len(t.src) && (t.src[i] == '+' || t.src[i] == '-' || (t.src[i] >= '1' && t.src[i] <= '9')) {
		if t.src[i] != '+' && t.src[i] != '-' {
			explicit = int(t.src[i] - '0')
		}
		i++
	}
	end := i
	content := -1
	if explicit > 0 {
		content = explicit
		if indent >= 0 {
			content += indent
		}
	}
	for l := t.lineOf(start) + 1; l < t.lineCount(); l++ {
		ls, le := t.lineStart(l), t.lineEnd(l)
		ind := t.indentOf(l)
		if ls+ind >= le {
			continue
		}
		if content < 0 {
			if ind <= indent || ind < 1 {
				break
			}
			content = ind
		} else if ind < content {
			break
		}
		end = le
	}
	return end
}

func (t *text) isDocMarker(l int) bool {
	s := t.src[t.lineStart(l):t.lineEnd(l)]
	if !bytes.HasPrefix(s, []byte("---")) && !bytes.HasPrefix(s, []byte("...")) {
		return false
	}
	return len(s) == 3 || isSpace(s[3])
}

// flowEnd finds the bracket closing the flow collection opened at start.
func (t *text) flowEnd(start int) (int, error) {
	src := t.src
	if start >= len(src) || (src[start] != '[' && src[start] != '{') {
		return 0, fmt.Errorf("scan flow collection at offset %d: no bracket", start)
	}
	depth := 0
	for i := start; i < len(src); i++ {
		switch c := src[i]; c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '\'', '"':
			// A quote only opens a scalar where a token starts; inside a
			// plain scalar it is an ordinary character.
			if p := src[i-1]; !isSpace(p) && p != '[' && p != '{' && p != ',' && p != ':' && p != '?' {
				continue
			}
			var end int
			var err error
			if c == '"' {
				end, err = t.doubleQuotedEnd(i)
			} else {
				end, err = t.singleQuotedEnd(i)
			}
			if err != nil {
				return 0, err
			}
			i = end - 1
		case '#':
			if isSpace(src[i-1]) {
				i = t.lineEnd(t.lineOf(i)) - 1
			}
		}
	}
	return 0, fmt.Errorf("scan flow collection at offset %d: unterminated", start)
}
