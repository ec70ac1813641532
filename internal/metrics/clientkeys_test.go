package metrics

import (
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/usage"
)

// series lists the non-zero samples of family name as "label=value,…: value".
func series(t *testing.T, m *Metrics, name string) []string {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.Metric {
			if mt.GetCounter().GetValue() == 0 {
				continue // a key's series start at zero on its first request
			}
			var ls []string
			for _, lp := range mt.Label {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			out = append(out, strings.Join(ls, ",")+": "+strings.TrimRight(strings.TrimRight(
				strconvFloat(mt.GetCounter().GetValue()), "0"), "."))
		}
	}
	sort.Strings(out)
	return out
}

// Requests, tokens and cost by client key: policy keys by name, plain
// keys together, no key (or a deleted key's) as none; a key removed from
// the config takes its series with it.
func TestClientKeyFamiliesAreBounded(t *testing.T) {
	m := New(nil)
	m.SetClientKeys(&config.Config{ClientKeys: []config.KeyPolicy{{Name: "alice"}, {Name: "bob"}},
		ModelPrices: []config.ModelPrice{{Model: "m", Input: 1000, Output: 2000}}})
	tok := usage.Tokens{Input: 10, Output: 5}
	for _, e := range []usage.Event{
		{ClientKeyID: "alice", Model: "m", Status: 200, Tokens: tok},
		{ClientKeyID: "alice", Model: "m", Status: 500, Failed: true},
		{ClientKeyID: "bob", Model: "unpriced", Status: 200, Tokens: tok},
		{ClientKeyID: string(config.ClientKey("plain-1")), Model: "m", Status: 200},
		{ClientKeyID: string(config.ClientKey("plain-2")), Model: "m", Status: 200},
		{ClientKeyID: "", Model: "m", Status: 200},
		{ClientKeyID: "carol", Model: "m", Status: 200}, // deleted while in flight
	} {
		m.Observe(&e)
	}
	want := []string{
		"client_key=alice,outcome=failure: 1", "client_key=alice,outcome=success: 1",
		"client_key=api-keys,outcome=success: 2", "client_key=bob,outcome=success: 1", "client_key=none,outcome=success: 2",
	}
	if got := series(t, m, "cpa_client_key_requests_total"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("requests by key:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// 10 input at 1000 USD/M + 5 output at 2000 USD/M = 0.02 USD.
	if got := series(t, m, "cpa_client_key_cost_usd_total"); strings.Join(got, "|") != "client_key=alice: 0.02" {
		t.Fatalf("cost by key: %v", got)
	}
	if got := series(t, m, "cpa_client_key_tokens_total"); len(got) != 6 { // alice, bob × input, output, total
		t.Fatalf("tokens by key: %v", got)
	}

	m.SetClientKeys(&config.Config{ClientKeys: []config.KeyPolicy{{Name: "bob"}}})
	m.Observe(&usage.Event{ClientKeyID: "bob", Model: "m", Status: 200})
	if got := series(t, m, "cpa_client_key_requests_total"); !strings.Contains(strings.Join(got, "|"), "client_key=bob,outcome=success: 2") {
		t.Fatalf("a key kept across a reload does not count on: %v", got)
	}
	for _, fam := range []string{"cpa_client_key_requests_total", "cpa_client_key_tokens_total", "cpa_client_key_cost_usd_total"} {
		for _, s := range series(t, m, fam) {
			if strings.Contains(s, "alice") {
				t.Fatalf("%s keeps a removed key's series: %s", fam, s)
			}
		}
	}
}

func strconvFloat(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }
