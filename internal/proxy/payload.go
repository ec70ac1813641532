package proxy

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/wildcard"
)

// payloadRule is one compiled payload.default or payload.override rule.
type payloadRule struct {
	override bool
	models   []config.PayloadModel
	params   []payloadParam
}

type payloadParam struct {
	path  string
	value []byte // JSON
}

// payloadPlan is the list of params to apply to requests of one candidate
// (a model on a credential). Which rules match is decided once when the
// table is built, so a request only applies the plan.
type payloadPlan struct {
	defaults  []payloadParam
	overrides []payloadParam
}

// compilePayload checks and compiles the payload rules: each param path must
// be a non-empty gjson path and each value must be expressible as JSON.
func compilePayload(p config.Payload) ([]payloadRule, error) {
	var out []payloadRule
	for _, set := range []struct {
		name     string
		override bool
		rules    []config.PayloadRule
	}{{"default", false, p.Default}, {"override", true, p.Override}} {
		for i, r := range set.rules {
			rule := payloadRule{override: set.override, models: r.Models}
			for _, path := range slices.Sorted(maps.Keys(r.Params)) {
				if path == "" {
					return nil, fmt.Errorf("payload.%s[%d]: a param has an empty path", set.name, i)
				}
				raw, err := json.Marshal(jsonable(r.Params[path]))
				if err != nil {
					return nil, fmt.Errorf("payload.%s[%d]: param %q: value is not JSON-compatible", set.name, i, path)
				}
				rule.params = append(rule.params, payloadParam{path: path, value: raw})
			}
			out = append(out, rule)
		}
	}
	return out, nil
}

// jsonable turns the map[any]any a YAML decoder may produce into
// map[string]any.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[fmt.Sprint(k)] = jsonable(v)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, v := range t {
			m[k] = jsonable(v)
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, v := range t {
			s[i] = jsonable(v)
		}
		return s
	}
	return v
}

// planFor collects the params of every rule matching model (the name the
// client asked for, prefix removed, before alias mapping) on an upstream
// whose payload protocol label is proto. A rule model's protocol, when set,
// must equal proto; "*" alone matches every model; matching is
// case-sensitive. A rule without models never matches.
func planFor(rules []payloadRule, model, proto string) *payloadPlan {
	var plan payloadPlan
	for _, r := range rules {
		if !slices.ContainsFunc(r.models, func(m config.PayloadModel) bool {
			return (m.Protocol == "" || m.Protocol == proto) && wildcard.Match(m.Name, model)
		}) {
			continue
		}
		if r.override {
			plan.overrides = append(plan.overrides, r.params...)
		} else {
			plan.defaults = append(plan.defaults, r.params...)
		}
	}
	if len(plan.defaults) == 0 && len(plan.overrides) == 0 {
		return nil
	}
	return &plan
}

// apply returns body with the defaults set where their path is missing and
// the overrides set always. body is not modified; a copy is made only when
// something changes.
func (p *payloadPlan) apply(body []byte) []byte {
	if p == nil {
		return body
	}
	out := body
	copied := false
	set := func(pp payloadParam) {
		if !copied {
			out = slices.Clone(out)
			copied = true
		}
		if b, err := sjson.SetRawBytes(out, pp.path, pp.value); err == nil {
			out = b
		}
	}
	for _, pp := range p.defaults {
		if !gjson.GetBytes(out, pp.path).Exists() {
			set(pp)
		}
	}
	for _, pp := range p.overrides {
		set(pp)
	}
	return out
}
