package config

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// sameNode compares two trees node by node: kind, tag, value, style,
// anchor, comments and children (positions are not compared).
func sameNode(a, b *yaml.Node, path string) error {
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("%s: one node is nil", path)
		}
		return nil
	}
	if a.Kind != b.Kind || a.Tag != b.Tag || a.Value != b.Value || a.Style != b.Style || a.Anchor != b.Anchor ||
		a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment {
		return fmt.Errorf("%s: got {kind %d tag %q value %q style %d}, yaml.v3 gives {kind %d tag %q value %q style %d}",
			path, a.Kind, a.Tag, a.Value, a.Style, b.Kind, b.Tag, b.Value, b.Style)
	}
	if len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: %d children, yaml.v3 gives %d", path, len(a.Content), len(b.Content))
	}
	for i := range a.Content {
		p := fmt.Sprintf("%s/%d", path, i)
		if a.Kind == yaml.MappingNode && i%2 == 1 {
			p = path + "/" + a.Content[i-1].Value
		}
		if err := sameNode(a.Content[i], b.Content[i], p); err != nil {
			return err
		}
	}
	return nil
}

func checkEncode(t *testing.T, cfg *Config) {
	t.Helper()
	got, err := Encode(cfg)
	want, werr := encodeYAML(cfg)
	if (err == nil) != (werr == nil) {
		t.Fatalf("Encode error: %v; yaml.v3 error: %v", err, werr)
	}
	if err != nil {
		return // yaml.v3 cannot read back what it writes for some strings
	}
	if err := sameNode(got, want, ""); err != nil {
		out, _ := yaml.Marshal(cfg)
		t.Fatalf("%v\nyaml.v3 writes:\n%s", err, out)
	}
}

// trickyStrings are values whose YAML rendering needs care: they resolve
// to other types, hold indicators, quotes, blanks, breaks, odd code points.
var trickyStrings = []string{
	"", " ", "  ", "a", "key-0000001", "true", "True", "TRUE", "false", "yes", "no", "on", "Off", "y", "N",
	"null", "Null", "~", "123", "-5", "+7", "0x1F", "0o17", "017", "1_000", "1e3", "1.5", ".5", "-.inf", ".nan", ".NaN",
	"1:20", "190:20:30.15", "-1:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "<<", "<", "=", "!", "!!str x",
	"&a", "*a", "a: b", "a:b", "a :b", "a:", ":a", ": a", "?", "? a", "?a", "-", "- a", "-a", "--", "---", "--- a", "...", "....",
	"#", "# c", "a #c", "a#c", "a # c", "[a]", "a]", "{a}", "a}", ",a", "a,b", "|", "|-", ">", "'", "''", "a'b", "\"", "a\"b",
	"%x", "@x", "`x", "a b", "a  b", " a", "a ", "a\tb", "\t", "a\nb", "a\n", "\n", "\na", "a\n\n", "a \nb", "a\n b", "a\r\nb",
	"a\rb", "\x00", "a\x07b", "a\x7fb", "\u0085", "a\u0085b", "a\u00a0b", "\u00a0", "é", "ünïcödé", "日本語", "a\u2028b",
	"\u2029", "\ufeff", "a\ufeffb", "\ufffd", "\uffff", "😀", "a😀b", "\U0010FFFF", "\xff", "a\xc3", "http://example.com:8080/path?q=1#frag",
	"sk-ABCDEF123456", "$2a$10$abcdefghijklmnopqrstuv", "C:\\path\\x", "a\\nb", "1.2.3.4", "::1", "[::1]:8080",
	"10.0.0.0/8", "*.example.com", "gpt-*", "model:latest", "=x", "+", "+.5", "0", "00", "0b101", "-0", "1e", "e1",
	strings.Repeat("x", 200), strings.Repeat("long value ", 40), strings.Repeat("k", 129) + ": v", strings.Repeat("y", 2000),
}

var (
	pickInt = []int{0, 1, -1, 5, 8317, -2147483648, 1 << 40}
)

// fill sets every field reachable from v to a random value; depth bounds
// nested lists.
func fill(r *rand.Rand, v reflect.Value, strs []string, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i), strs, depth)
			}
		}
	case reflect.String:
		if r.IntN(4) > 0 {
			v.SetString(strs[r.IntN(len(strs))])
		}
	case reflect.Int:
		if r.IntN(3) > 0 {
			v.SetInt(int64(pickInt[r.IntN(len(pickInt))]))
		}
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Pointer:
		if r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			fill(r, p.Elem(), strs, depth)
			v.Set(p)
		}
	case reflect.Slice:
		switch r.IntN(5) {
		case 0: // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		default:
			n := 1 + r.IntN(4)
			if depth > 2 {
				n = 1
			}
			s := reflect.MakeSlice(v.Type(), n, n)
			for i := range n {
				fill(r, s.Index(i), strs, depth+1)
			}
			v.Set(s)
		}
	case reflect.Map:
		switch r.IntN(4) {
		case 0:
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(5) {
				k := reflect.New(v.Type().Key()).Elem()
				k.SetString(strs[r.IntN(len(strs))])
				if tiesWithKey(m, k.String()) {
					continue // yaml.v3's order of such keys is random
				}
				e := reflect.New(v.Type().Elem()).Elem()
				fill(r, e, strs, depth+1)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Interface:
		if x := freeForm(r, strs, depth); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	}
}

// tiesWithKey reports whether k and another key of m are in no order
// for yaml.v3 (such as "\xff" and "\ufffd").
func tiesWithKey(m reflect.Value, k string) bool {
	for it := m.MapRange(); it.Next(); {
		if o := it.Key().String(); o != k && !keyLess(o, k) && !keyLess(k, o) {
			return true
		}
	}
	return false
}

func freeForm(r *rand.Rand, strs []string, depth int) any {
	switch n := r.IntN(8); {
	case n == 0:
		return nil
	case n == 1:
		return r.IntN(100) - 50
	case n == 2:
		return r.Float64() * 10
	case n == 3:
		return r.IntN(2) == 0
	case n == 4 && depth < 4:
		return []any{freeForm(r, strs, depth+1), strs[r.IntN(len(strs))]}
	case n == 5 && depth < 4:
		m := map[string]any{"k": "v"}
		if k := strs[r.IntN(len(strs))]; !tiesWithKey(reflect.ValueOf(m), k) {
			m[k] = freeForm(r, strs, depth+1)
		}
		return m
	}
	return strs[r.IntN(len(strs))]
}

func TestEncodeMatchesYAMLv3EdgeCases(t *testing.T) {
	ks := 1
	cases := map[string]*Config{
		"zero":     {},
		"defaults": Defaults(),
		"nil vs empty": {APIKeys: []string{}, TrustedProxies: nil, OAuthExcludedModels: map[string][]string{},
			GeminiKeys: []GeminiKey{{APIKey: "k", Headers: map[string]string{}, ExcludedModels: []string{}}}},
		"pointers": {Streaming: Streaming{KeepaliveSeconds: &ks}, Legacy: Legacy{AllowRemoteManagement: new(bool),
			Auth: &LegacyAuth{Providers: []LegacyAuthProvider{{Name: "p", Config: map[string]any{"x": 1.5, "y": nil}}}}}},
		"empty auth": {Legacy: Legacy{Auth: &LegacyAuth{}}},
		"payload": {Payload: Payload{Default: []PayloadRule{{Models: []PayloadModel{{Name: "gpt-*"}},
			Params: map[string]any{"temperature": 0.5, "n": 1, "stop": []any{"a", "\n"}, "nested": map[string]any{"b": true}}}}}},
		"map order": {OAuthExcludedModels: map[string][]string{"b": {"x"}, "a10": nil, "a9": {}, "A": {"y"}, "_": {"z"}, "1": {"q"},
			"a01": {"1"}, "a1": {"2"}, "é": {"3"}, "z-2": {"4"}, "z-10": {"5"}}},
		"headers": {CodexKeys: []CodexKey{{APIKey: "k", Headers: map[string]string{"X-A": "1", "x-b": "true", "a\nb": "c"},
			Models: []ModelAlias{{}, {Name: "n", Alias: "~"}}}}},
	}
	for _, s := range trickyStrings {
		cases["string "+fmt.Sprintf("%q", s)] = &Config{Host: s, APIKeys: []string{s, "x"}, OAuthExcludedModels: map[string][]string{s: {s}},
			CodexKeys: []CodexKey{{APIKey: s, Headers: map[string]string{"h": s}}}}
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) { checkEncode(t, cfg) })
	}
}

func TestEncodeMatchesYAMLv3Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 500
	if raceEnabled {
		n = 60
	}
	if testing.Short() {
		n = 100
	}
	for i := range n {
		var cfg Config
		fill(r, reflect.ValueOf(&cfg).Elem(), trickyStrings, 0)
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkEncode(t, &cfg) })
		if t.Failed() {
			return
		}
	}
}

// TestEncodeRandomStrings tries random strings made of the characters that
// matter to YAML.
func TestEncodeRandomStrings(t *testing.T) {
	t.Parallel() // CPU-bound and independent
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "Z", "0", "1", "9", " ", " ", "-", ":", "#", "'", "\"", ".", "?", "[", "]", "{", "}", ",", "&", "*",
		"!", "|", ">", "%", "@", "`", "~", "<", "+", "_", "e", "x", "o", "t", "n", "é", "日", "😀", "\t", "\n", "\r", "\\", "/", "\u00a0", "\ufeff"}
	var strs []string
	for range 3000 {
		var sb strings.Builder
		for range r.IntN(8) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		strs = append(strs, sb.String())
	}
	for i := 0; i < len(strs); i += 20 {
		chunk := strs[i:min(i+20, len(strs))]
		cfg := &Config{APIKeys: chunk, Host: chunk[0], OAuthExcludedModels: map[string][]string{}}
		for j, s := range chunk {
			cfg.OAuthExcludedModels[s] = chunk[j:]
		}
		checkEncode(t, cfg)
	}
}

func TestKeyLessMatchesYAMLv3(t *testing.T) {
	// yaml.v3 sorts map keys with the same function; a map of all the
	// tricky strings must come out in the same order (ambiguous pairs
	// make Encode defer to yaml.v3 altogether).
	m := map[string]string{}
	for _, s := range trickyStrings {
		if utf8.ValidString(s) {
			m[s] = "v"
		}
	}
	for _, s := range []string{"a1", "a01", "a001", "a10", "a2", "b", "B", "_b", "1", "01", "10", "x9y", "x10y", "x09y"} {
		m[s] = "v"
	}
	checkEncode(t, &Config{CodexKeys: []CodexKey{{Headers: m}}})
}

func FuzzEncode(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, s, 1, true)
	}
	f.Fuzz(func(t *testing.T, a, b string, n int, flag bool) {
		if a != b && !keyLess(a, b) && !keyLess(b, a) {
			t.Skip("keys yaml.v3 sorts in random order")
		}
		cfg := &Config{Host: a, Port: n, Debug: flag, APIKeys: []string{a, b}, ProxyURL: b,
			OAuthExcludedModels: map[string][]string{a: {b}, b: {a}},
			GeminiKeys:          []GeminiKey{{APIKey: a, Prefix: b, Headers: map[string]string{a: b}}},
			Payload:             Payload{Override: []PayloadRule{{Params: map[string]any{a: b, "n": n}}}},
			Legacy:              Legacy{RemoteManagementKey: b, AmpModelMappings: []AmpModelMapping{{From: a, To: b, Regex: flag}}},
		}
		if flag {
			cfg.Streaming.KeepaliveSeconds = &n
		}
		got, err := Encode(cfg)
		want, werr := encodeYAML(cfg)
		if (err == nil) != (werr == nil) {
			t.Fatalf("Encode error %v, yaml.v3 error %v", err, werr)
		}
		if err != nil {
			return
		}
		if err := sameNode(got, want, ""); err != nil {
			t.Fatal(err)
		}
		// The same config with a and b swapped, encoded as a pair.
		to := cfg.DeepCopy()
		to.Host, to.ProxyURL = b, a
		to.APIKeys = []string{b, a, a}
		to.GeminiKeys[0].APIKey = b
		oldDoc, newDoc, err := EncodePair(cfg, to)
		wantNew, werr := encodeYAML(to)
		if (err == nil) != (werr == nil) {
			t.Fatalf("EncodePair error %v, yaml.v3 error %v", err, werr)
		}
		if err != nil {
			return
		}
		if err := sameNode(oldDoc, want, "old"); err != nil {
			t.Fatal(err)
		}
		if err := sameNode(newDoc, wantNew, "new"); err != nil {
			t.Fatal(err)
		}
	})
}

// mutate changes a few things in cfg: items of lists replaced, added or
// removed, scalars and whole sections replaced.
func mutate(r *rand.Rand, cfg *Config, strs []string) {
	for range 1 + r.IntN(4) {
		switch r.IntN(7) {
		case 0:
			if len(cfg.APIKeys) > 0 {
				cfg.APIKeys[r.IntN(len(cfg.APIKeys))] = strs[r.IntN(len(strs))]
			}
		case 1:
			cfg.APIKeys = append(cfg.APIKeys, strs[r.IntN(len(strs))])
		case 2:
			if len(cfg.APIKeys) > 0 {
				i := r.IntN(len(cfg.APIKeys))
				cfg.APIKeys = append(cfg.APIKeys[:i:i], cfg.APIKeys[i+1:]...)
			}
		case 3:
			cfg.Host = strs[r.IntN(len(strs))]
		case 4:
			if len(cfg.GeminiKeys) > 0 {
				k := &cfg.GeminiKeys[r.IntN(len(cfg.GeminiKeys))]
				k.APIKey = strs[r.IntN(len(strs))]
				k.ExcludedModels = append(k.ExcludedModels, "m")
			}
		case 5:
			var fresh Config
			fill(r, reflect.ValueOf(&fresh).Elem(), strs, 0)
			cfg.CodexKeys, cfg.Payload, cfg.Legacy = fresh.CodexKeys, fresh.Payload, fresh.Legacy
		case 6:
			cfg.RemoteManagement.AllowRemote = !cfg.RemoteManagement.AllowRemote
			cfg.Streaming = Streaming{}
		}
	}
}

// TestEncodePairMatchesYAMLv3 holds both trees EncodePair returns to
// yaml.v3's encodings of the two configs, for random configs and changes.
func TestEncodePairMatchesYAMLv3(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := 300
	if raceEnabled {
		n = 40
	}
	if testing.Short() {
		n = 60
	}
	for i := range n {
		var from Config
		fill(r, reflect.ValueOf(&from).Elem(), trickyStrings, 0)
		to := from.DeepCopy()
		if i%3 == 0 {
			to = &from // the same config, shared slices and all
		} else {
			mutate(r, to, trickyStrings)
		}
		oldDoc, newDoc, err := EncodePair(&from, to)
		wantOld, errOld := encodeYAML(&from)
		wantNew, errNew := encodeYAML(to)
		if (err == nil) != (errOld == nil && errNew == nil) {
			t.Fatalf("%d: EncodePair error %v; yaml.v3 errors %v, %v", i, err, errOld, errNew)
		}
		if err != nil {
			continue
		}
		if err := sameNode(oldDoc, wantOld, "old"); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if err := sameNode(newDoc, wantNew, "new"); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
	}
}

// TestEncodePairSharesUnchangedItems checks the point of EncodePair: a
// one-item change to a long list builds one new item node.
func TestEncodePairSharesUnchangedItems(t *testing.T) {
	from := &Config{Port: 1}
	for i := range 1000 {
		from.APIKeys = append(from.APIKeys, fmt.Sprintf("key-%04d", i))
	}
	for name, change := range map[string]func(c *Config){
		"set":    func(c *Config) { c.APIKeys[500] = "changed" },
		"append": func(c *Config) { c.APIKeys = append(c.APIKeys, "new") },
		"delete": func(c *Config) { c.APIKeys = append(c.APIKeys[:500:500], c.APIKeys[501:]...) },
	} {
		t.Run(name, func(t *testing.T) {
			to := from.DeepCopy()
			change(to)
			oldDoc, newDoc, err := EncodePair(from, to)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []struct {
				doc *yaml.Node
				cfg *Config
			}{{oldDoc, from}, {newDoc, to}} {
				want, _ := encodeYAML(d.cfg)
				if err := sameNode(d.doc, want, ""); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[*yaml.Node]bool{}
			for _, it := range oldDoc.Content[2*apiKeysField(t)+1].Content {
				seen[it] = true
			}
			fresh := 0
			for _, it := range newDoc.Content[2*apiKeysField(t)+1].Content {
				if !seen[it] {
					fresh++
				}
			}
			if fresh > 1 {
				t.Errorf("%d new item nodes for a one-item change", fresh)
			}
		})
	}
}

// apiKeysField is the position of api-keys among the keys Encode writes
// for a config without omitted fields before it.
func apiKeysField(t *testing.T) int {
	for i, f := range planOf(reflect.TypeFor[Config]()).fields {
		if f.name == "api-keys" {
			return i
		}
	}
	t.Fatal("no api-keys field")
	return 0
}
