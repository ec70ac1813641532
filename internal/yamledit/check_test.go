package yamledit

import (
	"fmt"
	"testing"

	"gopkg.in/yaml.v3"
)

// checkHoldsNew asserts, independently of the package's own diff, that out
// parses and that every value that differs between oldYAML and newYAML has
// newYAML's value in out (and every key newYAML dropped is gone).
func checkHoldsNew(t testing.TB, out []byte, oldYAML, newYAML string) {
	t.Helper()
	if err := holdsNew(out, []byte(oldYAML), []byte(newYAML)); err != nil {
		t.Errorf("%v\n--- result ---\n%s", err, out)
	}
}

func holdsNew(out, oldYAML, newYAML []byte) error {
	got, err := keyedView(out)
	if err != nil {
		return fmt.Errorf("result does not parse: %w", err)
	}
	oldV, err := keyedView(oldYAML)
	if err != nil {
		return err
	}
	newV, err := keyedView(newYAML)
	if err != nil {
		return err
	}
	return compareChanged(got, oldV, newV, "")
}

// keyedView decodes the first document of src with mapping keys taken by
// their text (the first of equal texts wins) and aliases followed, which is
// how Patch addresses values; scalars decode to typed Go values.
func keyedView(src []byte) (interface{}, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	budget := 1 << 20
	return view(&doc, &budget)
}

func view(n *yaml.Node, budget *int) (interface{}, error) {
	*budget--
	if *budget < 0 {
		return nil, fmt.Errorf("document too large")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return view(n.Content[0], budget)
	case yaml.AliasNode:
		return view(n.Alias, budget)
	case yaml.MappingNode:
		m := map[string]interface{}{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			id := keyID(n.Content[i])
			if _, dup := m[id]; dup {
				continue
			}
			v, err := view(n.Content[i+1], budget)
			if err != nil {
				return nil, err
			}
			m[id] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]interface{}, len(n.Content))
		for i, c := range n.Content {
			v, err := view(c, budget)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	case yaml.ScalarNode:
		var v interface{}
		err := n.Decode(&v)
		return v, err
	}
	return nil, nil
}

func compareChanged(got, oldV, newV interface{}, at string) error {
	nm, newIsMap := asMap(newV)
	om, oldIsMap := asMap(oldV)
	if at == "" {
		// A document without content is an empty mapping.
		if newV == nil {
			nm, newIsMap = map[string]interface{}{}, true
		}
		if oldV == nil {
			om, oldIsMap = map[string]interface{}{}, true
		}
		if got == nil {
			got = map[string]interface{}{}
		}
	}
	if newIsMap && oldIsMap {
		gm, _ := asMap(got)
		for k, nv := range nm {
			ov, had := om[k]
			gv, has := gm[k]
			if had {
				if err := compareChanged(gv, ov, nv, at+"."+k); err != nil {
					return err
				}
				continue
			}
			if !has || !valueEqual(gv, nv) {
				return fmt.Errorf("%s.%s = %#v, want %#v", at, k, gv, nv)
			}
		}
		for k := range om {
			if _, keep := nm[k]; keep {
				continue
			}
			if _, has := gm[k]; has {
				return fmt.Errorf("%s.%s should be deleted", at, k)
			}
		}
		return nil
	}
	ns, newIsSeq := newV.([]interface{})
	os, oldIsSeq := oldV.([]interface{})
	if newIsSeq && oldIsSeq && len(ns) == len(os) {
		if got == nil {
			// The list is absent from the result because src lacked it;
			// like a missing mapping, there is nothing to hold the change.
			return nil
		}
		gs, _ := got.([]interface{})
		for i := range ns {
			if valueEqual(os[i], ns[i]) {
				continue
			}
			if i >= len(gs) {
				return fmt.Errorf("%s[%d] missing", at, i)
			}
			if err := compareChanged(gs[i], os[i], ns[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if !valueEqual(oldV, newV) && !valueEqual(got, newV) {
		return fmt.Errorf("%s = %#v, want %#v", at, got, newV)
	}
	return nil
}

// asMap views decoded mappings with any key type as string-keyed maps.
func asMap(v interface{}) (map[string]interface{}, bool) {
	switch m := v.(type) {
	case map[string]interface{}:
		return m, true
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(m))
		for k, v := range m {
			out[fmt.Sprint(k)] = v
		}
		return out, true
	}
	return nil, false
}
