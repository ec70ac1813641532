package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		set  func(c *Config)
		want string // "" means valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"port 1", func(c *Config) { c.Port = 1 }, ""},
		{"port 65535", func(c *Config) { c.Port = 65535 }, ""},
		{"port 0", func(c *Config) { c.Port = 0 }, "port must be between 1 and 65535, not 0"},
		{"port negative", func(c *Config) { c.Port = -1 }, "port must be between 1 and 65535, not -1"},
		{"port too big", func(c *Config) { c.Port = 65536 }, "port must be between 1 and 65535, not 65536"},

		{"tls off without files", func(c *Config) { c.TLS = TLS{Cert: "", Key: ""} }, ""},
		{"tls on with both", func(c *Config) { c.TLS = TLS{Enable: true, Cert: "c", Key: "k"} }, ""},
		{"tls on without files", func(c *Config) { c.TLS = TLS{Enable: true} }, "tls.enable needs both tls.cert and tls.key"},
		{"tls on without key", func(c *Config) { c.TLS = TLS{Enable: true, Cert: "c"} }, "tls.enable needs both tls.cert and tls.key"},
		{"tls on with blank cert", func(c *Config) { c.TLS = TLS{Enable: true, Cert: "  ", Key: "k"} }, "tls.enable needs both tls.cert and tls.key"},

		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1", "192.168.1.1", "fd00::/8"} }, ""},
		{"trusted proxy word", func(c *Config) { c.TrustedProxies = []string{"10.0.0.1", "proxy.local"} }, `trusted-proxies: "proxy.local" is neither an IP address nor a CIDR`},
		{"trusted proxy bad mask", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, `trusted-proxies: "10.0.0.0/33" is neither`},

		{"proxy-url http", func(c *Config) { c.ProxyURL = "http://proxy:3128" }, ""},
		{"proxy-url https with credentials", func(c *Config) { c.ProxyURL = "https://u:p@proxy" }, ""},
		{"proxy-url socks5", func(c *Config) { c.ProxyURL = "socks5://127.0.0.1:1080" }, ""},
		{"proxy-url socks5h", func(c *Config) { c.ProxyURL = "socks5h://proxy:1080" }, ""},
		{"proxy-url bad scheme", func(c *Config) { c.ProxyURL = "ftp://proxy" }, "proxy-url: scheme must be http, https, socks5 or socks5h"},
		{"store postgres", func(c *Config) { c.Store = "postgres://cpa@db:5432/cpa" }, ""},
		{"store postgresql", func(c *Config) { c.Store = "postgresql://db/cpa" }, ""},
		{"store not a postgres URL", func(c *Config) { c.Store = "mysql://db/cpa" }, "store: must be a postgres:// URL"},
		{"proxy-url without scheme", func(c *Config) { c.ProxyURL = "proxy:3128" }, "proxy-url: scheme must be"},
		{"proxy-url without host", func(c *Config) { c.ProxyURL = "http:///path" }, "proxy-url: a host is required"},
		{"proxy-url not a URL", func(c *Config) { c.ProxyURL = "http://proxy:port" }, "proxy-url: not a URL"},

		{"strategy empty", func(c *Config) { c.Routing.Strategy = "" }, ""},
		{"strategy round-robin", func(c *Config) { c.Routing.Strategy = "round-robin" }, ""},
		{"strategy fill-first", func(c *Config) { c.Routing.Strategy = "fill-first" }, ""},
		{"strategy weighted-round-robin", func(c *Config) { c.Routing.Strategy = "weighted-round-robin" }, ""},
		{"strategy unknown", func(c *Config) { c.Routing.Strategy = "random" }, `routing.strategy must be round-robin, fill-first or weighted-round-robin, not "random"`},
		{"affinity ttl", func(c *Config) { c.Routing.SessionAffinityTTL = "30m" }, ""},
		{"affinity ttl not a duration", func(c *Config) { c.Routing.SessionAffinityTTL = "1 hour" }, `routing.session-affinity-ttl must be a positive duration such as 30m or 1h, not "1 hour"`},
		{"affinity ttl zero", func(c *Config) { c.Routing.SessionAffinityTTL = "0s" }, `routing.session-affinity-ttl must be a positive duration`},
		{"transient cooldown off", func(c *Config) { c.TransientErrorCooldownSeconds = -1 }, ""},
		{"transient cooldown max", func(c *Config) { c.TransientErrorCooldownSeconds = 1800 }, ""},
		{"transient cooldown too long", func(c *Config) { c.TransientErrorCooldownSeconds = 1801 }, "transient-error-cooldown-seconds must be at most 1800"},
		{"weight max", func(c *Config) { c.CodexKeys = []CodexKey{{APIKey: "a", Steering: Steering{Weight: 1_000_000}}} }, ""},
		{"weight too large", func(c *Config) { c.CodexKeys = []CodexKey{{APIKey: "a", Steering: Steering{Weight: 1_000_001}}} }, "codex-api-key[0]: weight must be between 1 and 1000000"},
		{"weight negative", func(c *Config) { c.GeminiKeys = []GeminiKey{{APIKey: "a", Steering: Steering{Weight: -1}}} }, "gemini-api-key[0]: weight must be between"},
		{"max-concurrency negative", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "p", BaseURL: "https://p", APIKeyEntries: []APIKeyEntry{{APIKey: "k", Steering: Steering{MaxConcurrency: -2}}}}}
		}, "openai-compatibility[0].api-key-entries[0]: max-concurrency must be 0 (no cap) or more, not -2"},
		{"priority negative", func(c *Config) { c.ClaudeKeys = []ClaudeKey{{APIKey: "a", Steering: Steering{Priority: -5}}} }, ""},
		{"strategy not normalised", func(c *Config) { c.Routing.Strategy = "rr" }, `not "rr"`},

		{"gemini base-url https", func(c *Config) { c.GeminiKeys = []GeminiKey{{APIKey: "k", BaseURL: "https://g"}} }, ""},
		{"gemini base-url ftp", func(c *Config) {
			c.GeminiKeys = []GeminiKey{{APIKey: "a"}, {APIKey: "b", BaseURL: "ftp://g"}}
		}, `gemini-api-key[1]: base-url must be an http or https URL with a host`},
		{"gemini proxy-url", func(c *Config) { c.GeminiKeys = []GeminiKey{{APIKey: "a", ProxyURL: "gopher://p"}} }, "gemini-api-key[0]: proxy-url: scheme must be"},
		{"codex base-url without host", func(c *Config) { c.CodexKeys = []CodexKey{{APIKey: "a", BaseURL: "https://"}} }, `codex-api-key[0]: base-url must be an http or https URL with a host`},
		{"codex proxy-url", func(c *Config) { c.CodexKeys = []CodexKey{{APIKey: "a", ProxyURL: "http://"}} }, "codex-api-key[0]: proxy-url: a host is required"},
		{"claude base-url relative", func(c *Config) { c.ClaudeKeys = []ClaudeKey{{APIKey: "a", BaseURL: "api.anthropic.com"}} }, `claude-api-key[0]: base-url must be an http or https URL with a host`},
		{"claude proxy-url", func(c *Config) { c.ClaudeKeys = []ClaudeKey{{APIKey: "a", ProxyURL: "socks4://p"}} }, "claude-api-key[0]: proxy-url: scheme must be"},
		{"xai base-url relative", func(c *Config) { c.XAIKeys = []XAIKey{{APIKey: "a", BaseURL: "api.x.ai/v1"}} }, `xai-api-key[0]: base-url must be an http or https URL with a host`},
		{"xai proxy-url", func(c *Config) { c.XAIKeys = []XAIKey{{APIKey: "a", ProxyURL: "socks4://p"}} }, "xai-api-key[0]: proxy-url: scheme must be"},
		{"xai weight", func(c *Config) { c.XAIKeys = []XAIKey{{APIKey: "a", Steering: Steering{Weight: -1}}} }, "xai-api-key[0]"},
		{"vertex base-url unparsable", func(c *Config) { c.VertexKeys = []VertexKey{{APIKey: "a", BaseURL: "http://h:port"}} }, `vertex-api-key[0]: base-url must be an http or https URL with a host`},
		{"vertex proxy-url", func(c *Config) { c.VertexKeys = []VertexKey{{APIKey: "a", ProxyURL: "socks5://"}} }, "vertex-api-key[0]: proxy-url: a host is required"},
		{"all lists valid", func(c *Config) {
			c.GeminiKeys = []GeminiKey{{APIKey: "a", BaseURL: "http://g", ProxyURL: "socks5h://p"}}
			c.CodexKeys = []CodexKey{{APIKey: "a", BaseURL: "https://c", ProxyURL: "https://p"}}
			c.ClaudeKeys = []ClaudeKey{{APIKey: "a", BaseURL: "https://c:8443/v1"}}
			c.VertexKeys = []VertexKey{{APIKey: "a"}}
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "o", BaseURL: "https://o/v1", APIKeyEntries: []APIKeyEntry{{APIKey: "e", ProxyURL: "http://p"}}}}
		}, ""},

		{"openai-compat without base-url", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "ok", BaseURL: "https://o"}, {Name: "broken"}}
		}, "openai-compatibility[1] (broken): base-url is required"},
		{"openai-compat bad base-url", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "o", BaseURL: "ws://o"}}
		}, `openai-compatibility[0] (o): base-url must be an http or https URL with a host`},
		{"openai-compat entry proxy-url", func(c *Config) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "o", BaseURL: "https://o", APIKeyEntries: []APIKeyEntry{{APIKey: "a"}, {APIKey: "b", ProxyURL: "ftp://p"}}}}
		}, "openai-compatibility[0].api-key-entries[1]: proxy-url: scheme must be"},

		{"the first problem is reported", func(c *Config) { c.Port = 0; c.TLS.Enable = true }, "port must be"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Normalize()
			tc.set(c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err.Error(), tc.want)
			}
		})
	}
}

func TestValidateAfterNormalizeAcceptsStrategySpellings(t *testing.T) {
	for _, s := range []string{"RR", "roundrobin", "FF", " Fill-First "} {
		t.Run(s, func(t *testing.T) {
			c := Defaults()
			c.Routing.Strategy = s
			c.Normalize()
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A proxy URL may carry a user name and password; the error must not echo it
// back, whichever list it sits in.
func TestValidateProxyURLErrorsDoNotLeakTheURL(t *testing.T) {
	bad := []string{
		"ftp://alice:s3cr3t-pw@proxy.example:21",
		"http://alice:s3cr3t-pw@",
		"http://alice:s3cr3t-pw@proxy.example:notaport",
		"alice:s3cr3t-pw@proxy.example:3128",
		"socks5://alice:s3cr3t-pw@/",
		"http://alice:s3cr3t-pw@proxy example",
	}
	places := []struct {
		name string
		set  func(c *Config, u string)
	}{
		{"top level", func(c *Config, u string) { c.ProxyURL = u }},
		{"gemini", func(c *Config, u string) { c.GeminiKeys = []GeminiKey{{APIKey: "k", ProxyURL: u}} }},
		{"codex", func(c *Config, u string) { c.CodexKeys = []CodexKey{{APIKey: "k", ProxyURL: u}} }},
		{"claude", func(c *Config, u string) { c.ClaudeKeys = []ClaudeKey{{APIKey: "k", ProxyURL: u}} }},
		{"vertex", func(c *Config, u string) { c.VertexKeys = []VertexKey{{APIKey: "k", ProxyURL: u}} }},
		{"openai-compat entry", func(c *Config, u string) {
			c.OpenAICompatibility = []OpenAICompatibility{{Name: "o", BaseURL: "https://o", APIKeyEntries: []APIKeyEntry{{APIKey: "k", ProxyURL: u}}}}
		}},
	}
	for _, p := range places {
		for i, u := range bad {
			t.Run(p.name+"/"+string(rune('a'+i)), func(t *testing.T) {
				if err := ValidateProxyURL(u); err == nil {
					t.Fatalf("ValidateProxyURL accepted %q", u)
				} else if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "alice") {
					t.Fatalf("ValidateProxyURL error leaks the URL: %q", err.Error())
				}
				c := Defaults()
				p.set(c, u)
				err := c.Validate()
				if err == nil {
					t.Fatalf("Validate accepted %q", u)
				}
				if !strings.Contains(err.Error(), "proxy-url") {
					t.Fatalf("error %q does not name proxy-url", err.Error())
				}
				if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "alice") {
					t.Fatalf("error leaks the URL: %q", err.Error())
				}
			})
		}
	}
}

func TestValidateProxyURL(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"", ""},
		{"http://p", ""},
		{"https://p:443", ""},
		{"socks5://p", ""},
		{"socks5h://user:pw@p:1080", ""},
		{"HTTP://p", ""}, // url.Parse lower-cases the scheme
		{"p:8080", "scheme must be http, https, socks5 or socks5h"},
		{"//p:8080", "scheme must be"},
		{"socks4://p", "scheme must be"},
		{"http://", "a host is required"},
		{"http:p", "a host is required"},
		{"http://[::1", "not a URL"},
		{"%zz", "not a URL"},
	}
	for _, tc := range tests {
		t.Run("url "+tc.in, func(t *testing.T) {
			err := ValidateProxyURL(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr string
	}{
		{"nil", nil, []string{}, ""},
		{"ipv4 address becomes a /32", []string{"192.168.1.10"}, []string{"192.168.1.10/32"}, ""},
		{"ipv6 address becomes a /128", []string{"2001:db8::1"}, []string{"2001:db8::1/128"}, ""},
		{"ipv4-mapped address is unmapped", []string{"::ffff:10.0.0.1"}, []string{"10.0.0.1/32"}, ""},
		{"cidr is masked", []string{"10.1.2.3/8", "2001:db8::1/32"}, []string{"10.0.0.0/8", "2001:db8::/32"}, ""},
		{"order kept", []string{"::1", "127.0.0.1", "0.0.0.0/0"}, []string{"::1/128", "127.0.0.1/32", "0.0.0.0/0"}, ""},
		{"hostname", []string{"127.0.0.1", "localhost"}, nil, `trusted-proxies: "localhost" is neither an IP address nor a CIDR`},
		{"bad prefix length", []string{"10.0.0.0/40"}, nil, `"10.0.0.0/40" is neither`},
		{"untrimmed", []string{" 10.0.0.1"}, nil, `" 10.0.0.1" is neither`},
		{"empty entry", []string{""}, nil, `"" is neither`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if got != nil {
					t.Fatalf("got %v with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("nil result")
			}
			var strs []string
			for _, p := range got {
				strs = append(strs, p.String())
			}
			if strs == nil {
				strs = []string{}
			}
			if !reflect.DeepEqual(strs, tc.want) {
				t.Fatalf("got %q, want %q", strs, tc.want)
			}
		})
	}
	t.Run("parsed prefixes contain what they should", func(t *testing.T) {
		ps, err := ParsePrefixes([]string{"10.1.2.3/8", "::ffff:192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if !ps[0].Contains(netip.MustParseAddr("10.200.0.1")) || ps[0].Contains(netip.MustParseAddr("11.0.0.1")) {
			t.Fatalf("%v", ps[0])
		}
		if !ps[1].Contains(netip.MustParseAddr("192.0.2.1")) {
			t.Fatalf("unmapped prefix %v does not contain the IPv4 address", ps[1])
		}
	})
}
