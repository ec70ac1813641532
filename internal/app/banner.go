package app

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// banner is what the server says once it serves: where it listens, what
// is where, what it loaded, and what to do when nothing is loaded yet.
type banner struct {
	addr         *net.TCPAddr // where it listens
	cfg          *config.Config
	configPath   string
	management   bool // a management key is set (file or MANAGEMENT_PASSWORD)
	oauthAccount int
}

// write prints the banner to w as a few aligned lines.
func (b banner) write(w io.Writer) {
	c := b.cfg
	scheme := "http"
	if c.TLS.Enable {
		scheme = "https"
	}
	host, where := c.Host, ""
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host, where = "127.0.0.1", " (every interface)"
	}
	base := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(b.addr.Port))

	var s strings.Builder
	line := func(label, value string) { fmt.Fprintf(&s, "  %-18s %s\n", label, value) }
	fmt.Fprintf(&s, "CLI Proxy API %s (commit %s, built %s)\n", version.Version, version.Commit, version.BuildDate)
	line("Listening on", base+where)
	line("OpenAI clients", "base URL "+base+"/v1")
	line("Anthropic clients", "base URL "+base)
	line("Gemini clients", "base URL "+base+" (API version v1beta)")
	switch {
	case !b.management:
		line("Control panel", "off: no management key (set remote-management.secret-key or MANAGEMENT_PASSWORD)")
	case c.RemoteManagement.DisableControlPanel:
		line("Control panel", "off (remote-management.disable-control-panel)")
	default:
		line("Control panel", base+"/management.html")
	}
	if b.management {
		line("Management API", base+"/v0/management (Swagger UI: "+base+"/v0/management/docs/)")
	}
	line("Config", b.configPath)
	clients, providers := len(c.APIKeys)+len(c.ClientKeys), providerKeys(c)
	line("Loaded", fmt.Sprintf("%s, %s, %s", plural(clients, "client key"), plural(providers, "provider key"), plural(b.oauthAccount, "OAuth account")))
	if clients == 0 && !c.AllowLocalhostUnauthenticated {
		fmt.Fprintf(&s, "  Hint: no client key, so every proxied request is refused: add one to api-keys (or client-keys) in %s\n", b.configPath)
		s.WriteString("        (applied within a second) or on the control panel's Client API keys page.\n")
	}
	if providers+b.oauthAccount == 0 {
		s.WriteString("  Hint: no upstream yet. Add a provider key on the control panel, or with the Management API:\n")
		fmt.Fprintf(&s, "        curl -X PUT -H \"Authorization: Bearer $MANAGEMENT_KEY\" -d '[{\"api-key\":\"AIza...\"}]' %s/v0/management/gemini-api-key\n", base)
		s.WriteString("        or log in an account: cli-proxy-api -login codex (or anthropic, gemini-cli, ...).\n")
	}
	_, _ = io.WriteString(w, s.String())
}

// providerKeys counts the upstream keys in the config; an
// OpenAI-compatible provider without keys (a local server) counts once.
func providerKeys(c *config.Config) int {
	n := len(c.GeminiKeys) + len(c.CodexKeys) + len(c.ClaudeKeys) + len(c.XAIKeys) + len(c.VertexKeys)
	for _, p := range c.OpenAICompatibility {
		n += max(len(p.APIKeyEntries), 1)
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// banner describes the server as it starts serving on addr.
func (s *Server) banner(addr net.Addr) banner {
	b := banner{cfg: s.store.Current().Config, configPath: s.store.Path(), management: s.guard.Enabled()}
	b.addr, _ = addr.(*net.TCPAddr)
	if b.addr == nil {
		b.addr = &net.TCPAddr{Port: b.cfg.Port}
	}
	if abs, err := filepath.Abs(b.configPath); err == nil {
		b.configPath = abs
	}
	if s.accounts != nil {
		b.oauthAccount = len(s.accounts.Accounts())
	}
	if s.store.Shared() {
		b.configPath += " (seed only: the config in force is shared through PostgreSQL)"
	}
	return b
}
