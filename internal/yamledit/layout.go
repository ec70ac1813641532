package yamledit

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// layout is how a file is indented, so that text written into it looks as
// if the operator had typed it.
type layout struct {
	unit    int    // spaces a nested mapping sits right of its key
	seqOff  int    // spaces a block sequence's dashes sit right of its key (0: "- a" under the key)
	itemOff int    // spaces from a dash to the mapping it holds ("- key" is 2, "-   key" is 4)
	eol     string // line break to write
}

const defaultIndent = 2

// detectLayout takes the first nesting it finds in src as the file's habit;
// files without nesting get yaml.v3-like defaults.
func detectLayout(src []byte, doc *yaml.Node) layout {
	lay := layout{seqOff: -1, itemOff: -1, eol: "\n"}
	if bytes.Contains(src, []byte("\r\n")) {
		lay.eol = "\r\n"
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || n.Style&yaml.FlowStyle != 0 {
			return
		}
		if n.Kind == yaml.SequenceNode && len(n.Content) > 0 && lay.itemOff < 0 && n.Anchor == "" && n.Style&yaml.TaggedStyle == 0 {
			if item := n.Content[0]; item.Kind == yaml.MappingNode && item.Style&yaml.FlowStyle == 0 && item.Line == n.Line && item.Anchor == "" {
				lay.itemOff = item.Column - n.Column
			}
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				plain := v.Style&(yaml.FlowStyle|yaml.TaggedStyle) == 0 && v.Anchor == "" && len(v.Content) > 0
				switch {
				case plain && v.Kind == yaml.MappingNode && v.Content[0].Line > k.Line && lay.unit == 0:
					if d := v.Content[0].Column - k.Column; d > 0 {
						lay.unit = d
					}
				case plain && v.Kind == yaml.SequenceNode && v.Line > k.Line && lay.seqOff < 0:
					if d := v.Column - k.Column; d >= 0 {
						lay.seqOff = d
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
	if lay.unit <= 0 || lay.unit > 8 {
		lay.unit = defaultIndent
	}
	if lay.itemOff < 2 || lay.itemOff > 8 {
		lay.itemOff = 2
	}
	if lay.seqOff < 0 || lay.seqOff > 8 {
		lay.seqOff = lay.unit
	}
	return lay
}
