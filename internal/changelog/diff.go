package changelog

import (
	"bytes"
	"fmt"
	"strings"
)

// maxDiffCells bounds the work of the line matching between the first and
// the last changed line (lines × lines); past it the changed region is
// shown as removed and added whole. Common leading and trailing lines are
// always matched first, so a typical edit of a large file stays small.
const maxDiffCells = 4 << 20

// contextLines is how many unchanged lines surround each hunk.
const contextLines = 3

// UnifiedDiff returns the unified diff (as diff -u prints it) that turns a
// into b, with the file named name on both sides, or "" when they are
// equal.
func UnifiedDiff(name string, a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := diffLines(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- a/%s\n+++ b/%s\n", name, name)
	// Group the edit script into hunks with context.

	n := len(ops)
	i := 0
	for i < n {
		// Find the next change.
		for i < n && ops[i].kind == ' ' {
			i++
		}
		if i >= n {
			break
		}
		start := max(i-contextLines, 0)
		// Extend the hunk while changes are within 2*context of each other.
		end := i
		for end < n {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			j := end
			for j < n && ops[j].kind == ' ' {
				j++
			}
			if j < n && j-end <= 2*contextLines {
				end = j
				continue
			}
			end = min(end+contextLines, n)
			break
		}
		aStart, bStart := ops[start].a, ops[start].b
		var aCount, bCount int
		var body strings.Builder
		for _, o := range ops[start:end] {
			switch o.kind {
			case ' ':
				aCount++
				bCount++
			case '-':
				aCount++
			case '+':
				bCount++
			}
			body.WriteByte(o.kind)
			body.WriteString(o.text)
			if !strings.HasSuffix(o.text, "\n") {
				body.WriteString("\n\\ No newline at end of file\n")
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
		out.WriteString(body.String())
		i = end
	}
	return out.String()
}

func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if count == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}

// editOp is one line of an edit script: kept, removed from a or added
// from b; a and b are the 0-based line numbers in each file where it
// sits.
type editOp struct {
	kind byte
	text string
	a, b int
}

func splitLines(s []byte) []string {
	if len(s) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(s), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func diffLines(a, b []string) []editOp {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ops := make([]editOp, 0, pre+suf+8)
	for i := range pre {
		ops = append(ops, editOp{' ', a[i], i, i})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	ops = append(ops, middle(am, bm, pre, pre)...)
	for k := range suf {
		ia, ib := len(a)-suf+k, len(b)-suf+k
		ops = append(ops, editOp{' ', a[ia], ia, ib})
	}
	return ops
}

// middle matches the changed region by longest common subsequence, or
// replaces it whole when it is too large to match.
func middle(a, b []string, ao, bo int) []editOp {
	var ops []editOp
	if len(a) == 0 || len(b) == 0 || len(a)*len(b) > maxDiffCells {
		for i, l := range a {
			ops = append(ops, editOp{'-', l, ao + i, bo})
		}
		for j, l := range b {
			ops = append(ops, editOp{'+', l, ao + len(a), bo + j})
		}
		return ops
	}
	// lcs[i][j] = LCS length of a[i:], b[j:].
	w := len(b) + 1
	lcs := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, editOp{' ', a[i], ao + i, bo + j})
			i++
			j++
		case i < len(a) && (j == len(b) || lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
			ops = append(ops, editOp{'-', a[i], ao + i, bo + j})
			i++
		default:
			ops = append(ops, editOp{'+', b[j], ao + i, bo + j})
			j++
		}
	}
	return ops
}
