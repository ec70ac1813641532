package packaging

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeCommand is one command the README tells its reader to run: a
// command of a fenced shell block (continuation lines and here-documents
// included), a command in backquotes (cli-proxy-api, make, docker, curl,
// go, npm …) anywhere, or a Management API call in backquotes ("GET /…")
// in the quick start and the task sections (the reference names routes by
// the hundred, and its own tests call them).
type readmeCommand struct {
	text  string
	block int // index of its fenced block, -1 for a command in backquotes
	line  int
}

// A readmeRule says what happens to the commands its pattern matches
// (anchored, against the whole command): shell runs them through bash
// against the test's server (a fenced block's shell commands as one session,
// so its variables carry), run calls a function, and elsewhere or cannot
// say where they are exercised or why they cannot run here.
type readmeRule struct {
	pattern   string
	shell     bool
	run       func(t *testing.T, s *readmeServer, cmd string)
	elsewhere string
	cannot    string
}

var readmeRules = []readmeRule{
	// The quick start.
	{pattern: `make run`, elsewhere: "TestReadmeQuickStartFromSource runs the build and the binary of make run, in a network namespace where 8317 is free"},
	{pattern: `export (MANAGEMENT_KEY|CPA_KEY|OPENAI_API_KEY)=.*`, elsewhere: "TestReadmeQuickStartFromSource"},
	{pattern: `curl -sS -X PUT http://127.0.0.1:8317/v0/management/openai-compatibility (?s:.*)`, elsewhere: "TestReadmeQuickStartFromSource"},
	{pattern: `curl -sS http://127.0.0.1:8317/v1/chat/completions (?s:.*)`, elsewhere: "TestReadmeQuickStartFromSource"},
	{pattern: `npm install openai|node hello.mjs`, elsewhere: "TestReadmeQuickStartFromSource runs hello.mjs with the SDK make sdk-deps installs (.ci/run)"},
	{pattern: `make image|make image-test`, elsewhere: ".ci/run runs make image-test; TestImageIsBuiltByTheMakefilesBuild checks make image's build"},
	{pattern: `make dist`, elsewhere: "tools/dist's tests check the archives and the SHA256SUMS it writes; the six cross-compiles take minutes"},
	{pattern: `sha256sum -c SHA256SUMS`, elsewhere: "needs make dist's archives; TestChecksumsAreWhatSha256sumChecks (tools/dist) checks SHA256SUMS with sha256sum -c"},
	{pattern: `make run ARGS="-config /path/to/config.yaml"`, run: makeRunPassesArgs},

	// Containers.
	{pattern: `docker compose run --rm -it cli-proxy-api -login codex`, run: logsInThroughTheEntrypoint},
	{pattern: `docker (compose|build|run|logs) .*`, cannot: "podman cannot start containers in this sandbox; .ci/run runs make image-test (build, first run, health check) where it can, and tests/packaging checks the Dockerfile and compose.yaml"},

	// Tasks.
	{pattern: `(\./(bin/)?)?cli-proxy-api version`, run: runsVersion},
	{pattern: `\./bin/cli-proxy-api -login codex`, run: logsInCodex},
	{pattern: `cli-proxy-api -config … -healthcheck`, run: runsHealthcheck},
	{pattern: `journalctl -u cli-proxy-api`, cannot: "no systemd here; TestSystemdUnitExample checks docs/cli-proxy-api.service"},
	{pattern: `cli-proxy-api -config config.yaml -export-config out.yaml`, elsewhere: "TestExportConfigWritesTheSharedDocument (internal/app) exports the document of a real PostgreSQL and runs an instance on the file"},
	{pattern: `git pull && make build`, cannot: "git pull needs the network; this test builds its binary with make build"},
	{pattern: `(GET|PUT|POST) /.*`, run: callsManagementAPI},

	// The Management API example.
	{pattern: `KEY=cpa-mgmt-…`, shell: true},
	{pattern: `curl (-X PUT )?-H "Authorization: Bearer \$KEY" (?s:.*)http://127.0.0.1:8317/v0/management/\S+`, shell: true},

	// The reference and the maintainers' table.
	{pattern: `cli-proxy-api -h`, run: helpListsTheEnvironment},
	{pattern: `cli-proxy-api -config config.yaml -login codex`, run: logsInCodex},
	{pattern: `make build`, elsewhere: "this test builds its binary with it"},
	{pattern: `make (test|test-go|test-scale|test-sdk-go|test-ts|test-sdk|test-panel|lint-spec|vet|check-generated)`, elsewhere: ".ci/run runs make check-generated and make test, which is these targets"},
	{pattern: `make (generate|config-example|panel)`, elsewhere: "make check-generated (.ci/run) runs make generate, of which config-example is a part, and fails if the panel bundle is stale"},
	{pattern: `make test-official-panel OFFICIAL_PANEL_DIR=.*`, cannot: "needs a built official Management Center, which is not in this repository; without OFFICIAL_PANEL_DIR the target only prints a skip message"},
	{pattern: `make (bench|bench-e2e|fuzz|stress|fault-run)`, cannot: "measurements and soak runs of minutes each, run by hand; not checks"},
	{pattern: `go test -race ./\.\.\.|go vet|go run`, elsewhere: "what make test-go and make vet run (.ci/run)"},
	{pattern: `go mod graph|go list -deps|go doc`, elsewhere: "make test-sdk-go runs the SDK's examples and checks go list -deps and go mod graph (.ci/run)"},

	// The SDKs.
	{pattern: `go get github.com/cli-proxy-api/cli-proxy-api/clients/go@latest`, cannot: "needs the network and a published tag; make test-sdk-go builds a module that uses the SDK through replace, as the README's other way says"},
	{pattern: `cd clients/typescript && npm ci && npm pack`, elsewhere: "make test-ts packs the SDK the same way (.ci/run)"},
	{pattern: `cd /your/project && npm install /path/to/.*\.tgz`, elsewhere: "make test-ts installs the packed tarball into a scratch project (.ci/run)"},
}

// substitutions turn the README's placeholders into this test's server,
// in this order, before a command runs.
func (s *readmeServer) substitutions() []string {
	return []string{
		"http://127.0.0.1:8317", "http://" + s.addr,
		"KEY=cpa-mgmt-…", "KEY=" + s.mgmtKey,
		"-config …", "-config " + s.config,
		"-config config.yaml", "-config " + s.config,
		"./bin/cli-proxy-api", s.bin,
		"./cli-proxy-api", s.bin,
	}
}

// Every command the README tells its reader to run is run here against a
// real server (the binary make build makes, a temp config, a fake OAuth
// provider), or is listed with where it runs or why it cannot run here. A
// new command that is neither fails with what to do.
func TestReadmeEveryCommandRunsOrIsListed(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 20 {
		t.Fatalf("found only %d commands in the README; update readmeCommands:\n%+v", len(cmds), cmds)
	}
	for i, r := range readmeRules {
		if n := btoi(r.shell) + btoi(r.run != nil) + btoi(r.elsewhere != "") + btoi(r.cannot != ""); n != 1 {
			t.Fatalf("readmeRules[%d] (%q) must say one thing: shell, run, elsewhere or cannot", i, r.pattern)
		}
	}
	used := make([]bool, len(readmeRules))
	var s *readmeServer
	server := func() *readmeServer {
		if s == nil {
			s = startReadmeServer(t)
		}
		return s
	}
	sessions := map[int]string{} // a fenced block's shell commands, in order
	var blocks []int
	for _, c := range cmds {
		i := matchRule(c.text)
		if i < 0 {
			t.Errorf("README.md:%d: %q is neither run nor listed. Add a rule to readmeRules in tests/packaging/readme_commands_test.go: "+
				"shell: true (or a run function) to run it against the test's server, or elsewhere/cannot naming the test that runs it or why it cannot run here", c.line, c.text)
			continue
		}
		used[i] = true
		r := readmeRules[i]
		switch {
		case r.shell && c.block >= 0:
			if _, ok := sessions[c.block]; !ok {
				blocks = append(blocks, c.block)
			}
			sessions[c.block] += c.text + "\n"
		case r.shell:
			runShell(t, server(), c.text)
		case r.run != nil:
			t.Run(fmt.Sprintf("line%d", c.line), func(t *testing.T) { r.run(t, server(), c.text) })
		}
	}
	for _, b := range blocks {
		runShell(t, server(), sessions[b])
	}
	if s != nil {
		t.Run("second instance", func(t *testing.T) { secondInstanceFromTheExample(t, s) })
	}
	for i, u := range used {
		if !u {
			t.Errorf("readmeRules[%d] (%q) matches no command of the README any more: remove it", i, readmeRules[i].pattern)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func matchRule(cmd string) int {
	for i, r := range readmeRules {
		if regexp.MustCompile(`^(?:` + r.pattern + `)$`).MatchString(cmd) {
			return i
		}
	}
	return -1
}

// readmeCommands extracts the commands: every command of every fenced
// block tagged sh, bash, shell or console (a console block's commands are
// its "$ " lines; other blocks are output, YAML or code), and the
// backquoted ones readmeCommand describes.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	lines := strings.Split(readFile(t, "README.md"), "\n")
	var out []readmeCommand
	inFence, lang, block := false, "", -1
	reference := false
	prose := make([]string, len(lines)) // the lines outside fences before "# Reference"
	spans := regexp.MustCompile("`((?:\\./bin/|\\./)?cli-proxy-api [^`]+|(?:make|docker|git|curl|sha256sum|journalctl|systemctl|node|npm|go|podman) [^`]+|(?:GET|PUT|POST|PATCH|DELETE) /[^`]*)`")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			if inFence {
				inFence = false
				continue
			}
			inFence, lang = true, strings.TrimPrefix(l, "```")
			block++
			continue
		}
		if inFence {
			if lang != "sh" && lang != "bash" && lang != "shell" && lang != "console" {
				continue
			}
			if lang == "console" {
				if !strings.HasPrefix(l, "$ ") {
					continue
				}
				l = strings.TrimPrefix(l, "$ ")
			}
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			start := i + 1
			cmd := l
			for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
				i++
				cmd += "\n" + lines[i]
			}
			if m := regexp.MustCompile(`<<-?'?(\w+)'?`).FindStringSubmatch(cmd); m != nil {
				for i+1 < len(lines) {
					i++
					cmd += "\n" + lines[i]
					if lines[i] == m[1] {
						break
					}
				}
			}
			out = append(out, readmeCommand{text: stripComment(cmd), block: block, line: start})
			continue
		}
		if l == "# Reference" {
			reference = true
		}
		prose[i] = l
		if reference {
			// The reference names routes by the hundred; the tasks' are called.
			prose[i] = regexp.MustCompile("`(GET|PUT|POST|PATCH|DELETE) /").ReplaceAllString(l, "`$1 ")
		}
	}
	// A backquoted command may wrap onto the next line.
	text := strings.Join(prose, "\n")
	for _, m := range spans.FindAllStringSubmatchIndex(text, -1) {
		out = append(out, readmeCommand{text: strings.ReplaceAll(text[m[2]:m[3]], "\n", " "), block: -1, line: strings.Count(text[:m[0]], "\n") + 1})
	}
	return out
}

// stripComment drops a trailing "   # …" comment of a one-line command.
func stripComment(cmd string) string {
	if strings.Contains(cmd, "\n") {
		return cmd
	}
	if i := strings.Index(cmd, "  #"); i > 0 {
		return strings.TrimRight(cmd[:i], " ")
	}
	return cmd
}

// readmeServer is the binary make build makes, serving a temp config on a
// free loopback port, with a fake OAuth provider for codex logins.
type readmeServer struct {
	bin, dir, config, authDir string
	addr, mgmtKey, clientKey  string
	oauth                     *httptest.Server
	log                       *lockedBuffer
}

func startReadmeServer(t *testing.T) *readmeServer {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	s := &readmeServer{dir: t.TempDir(), mgmtKey: "cpa-mgmt-readme-test", clientKey: "cpa-readme-client", log: &lockedBuffer{}}
	s.bin = filepath.Join(s.dir, "cli-proxy-api")
	if out, err := exec.Command("make", "-C", root, "--no-print-directory", "build", "BIN="+s.bin).CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	s.oauth = fakeCodexOAuth(t)
	s.authDir = filepath.Join(s.dir, "auth")
	s.addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	s.config = filepath.Join(s.dir, "config.yaml")
	cfg := fmt.Sprintf(`host: "127.0.0.1"
port: %s
auth-dir: %q
api-keys: [%q]
usage-statistics-enabled: true
oauth-endpoints:
  codex:
    auth-url: %q
    token-url: %q
openai-compatibility:
  - name: fake
    base-url: %q
    api-key-entries: [{api-key: sk-fake-upstream}]
    models: [{name: gpt-4o-mini, alias: gpt-4o-mini}]
`, strings.TrimPrefix(s.addr, "127.0.0.1:"), s.authDir, s.clientKey, s.oauth.URL+"/oauth/authorize", s.oauth.URL+"/oauth/token", fakeOpenAI(t).URL+"/v1")
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, s.bin, "-config", s.config) // killed if it hangs before serving
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "HOME="+s.dir, "MANAGEMENT_PASSWORD="+s.mgmtKey)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = s.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	readUntil(t, stdout, "Loaded ")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	// One proxied request, for the usage the tasks watch, export and import.
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+s.clientKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a proxied request: %d %s\n%s", resp.StatusCode, b, s.log.String())
	}
	return s
}

// fakeOpenAI answers chat completions as an OpenAI-compatible upstream.
func fakeOpenAI(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runShell runs README commands through bash, placeholders substituted;
// curl fails on an error status, so a wrong path, key or body fails here.
func runShell(t *testing.T, s *readmeServer, script string) {
	t.Helper()
	script = strings.NewReplacer(s.substitutions()...).Replace(script)
	full := "curl() { command curl -sS --fail-with-body --max-time 10 \"$@\"; }\n" + script
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", full).CombinedOutput()
	if err != nil {
		t.Errorf("the README's commands failed: %v\n%s\noutput:\n%s\nserver log:\n%s", err, script, out, s.log.String())
	}
}

func makeRunPassesArgs(t *testing.T, _ *readmeServer, cmd string) {
	out, err := exec.Command("make", "-C", root, "--no-print-directory", "-n", "run", `ARGS=-config /path/to/config.yaml`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-config /path/to/config.yaml") {
		t.Errorf("make -n run ARGS=…: %v; the binary does not get the ARGS:\n%s", err, out)
	}
}

func runsVersion(t *testing.T, s *readmeServer, cmd string) {
	out, err := exec.Command(s.bin, "version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`commit .+, built `).Match(out) {
		t.Errorf("%s: %v\n%s", cmd, err, out)
	}
}

func helpListsTheEnvironment(t *testing.T, s *readmeServer, cmd string) {
	out, _ := exec.Command(s.bin, "-h").CombinedOutput()
	for _, env := range []string{"MANAGEMENT_PASSWORD", "WRITABLE_PATH", "HOME", "CPA_STORE"} {
		if !strings.Contains(string(out), env) {
			t.Errorf("%s does not name %s:\n%s", cmd, env, out)
		}
	}
}

func runsHealthcheck(t *testing.T, s *readmeServer, cmd string) {
	args := strings.Fields(strings.NewReplacer(s.substitutions()...).Replace(cmd))[1:]
	if out, err := exec.Command(s.bin, args...).CombinedOutput(); err != nil {
		t.Errorf("%s: %v\n%s", cmd, err, out)
	}
}

// logsInCodex runs the login as the README says, pastes the address the
// browser would end on, and checks the running server picked the new auth
// file up at once.
func logsInCodex(t *testing.T, s *readmeServer, cmd string) {
	args := strings.Fields(strings.NewReplacer(s.substitutions()...).Replace(cmd))[1:]
	if !strings.Contains(cmd, "-config") {
		args = append(args, "-config", s.config) // ./config.yaml, where the README runs it
	}
	loginCodex(t, s, cmd, args)
}

// logsInThroughTheEntrypoint runs what `docker compose run <service> ARGS`
// runs, without a container: the Dockerfile's ENTRYPOINT with ARGS after
// it, its /data/config.yaml being the test's config.
func logsInThroughTheEntrypoint(t *testing.T, s *readmeServer, cmd string) {
	m := regexp.MustCompile(`(?m)^ENTRYPOINT \[(.*)\]$`).FindStringSubmatch(readFile(t, "Dockerfile"))
	if m == nil {
		t.Fatal("the Dockerfile has no ENTRYPOINT [...]; update this test")
	}
	var entry []string
	if err := json.Unmarshal([]byte("["+m[1]+"]"), &entry); err != nil || len(entry) == 0 || entry[0] != "/cli-proxy-api" {
		t.Fatalf("ENTRYPOINT %s: %v; update this test", m[1], err)
	}
	service := strings.Fields(cmd)[5]
	if !regexp.MustCompile(`(?m)^services:\n(?:.*\n)*?  ` + regexp.QuoteMeta(service) + `:\n`).MatchString(readFile(t, "compose.yaml")) {
		t.Fatalf("compose.yaml has no service %q", service)
	}
	args := strings.NewReplacer("/data/config.yaml", s.config).Replace(strings.Join(entry[1:], "\x00"))
	loginCodex(t, s, cmd, append(strings.Split(args, "\x00"), strings.Fields(cmd)[6:]...))
}

func loginCodex(t *testing.T, s *readmeServer, cmd string, args []string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	login := exec.CommandContext(ctx, s.bin, args...) // killed if it hangs: readUntil then fails
	login.Env = append(os.Environ(), "HOME="+s.dir)
	stdin, err := login.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := login.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	login.Stderr = &stderr
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	printed := readUntil(t, stdout, "Paste the full address")
	m := regexp.MustCompile(`(?m)^  (http\S+)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no URL to open:\n%s", printed)
	}
	u, err := url.Parse(m[1])
	if err != nil || !strings.HasPrefix(m[1], s.oauth.URL+"/oauth/authorize") {
		t.Fatalf("the URL to open is not the provider's: %q", m[1])
	}
	q := u.Query()
	redirect := q.Get("redirect_uri") + "?code=the-code&state=" + url.QueryEscape(q.Get("state"))
	fmt.Fprintln(stdin, redirect)
	rest, _ := io.ReadAll(stdout)
	if err := login.Wait(); err != nil || !strings.Contains(string(rest), "Login complete") {
		t.Fatalf("%s: %v\n%s%s\n%s", cmd, err, printed, rest, stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(s.authDir, "codex-*.json"))
	if len(files) != 1 {
		t.Fatalf("auth-dir holds %q after the login, want one codex file", files)
	}
	want := filepath.Base(files[0])
	waitFor(t, "the server lists "+want, func() bool {
		body, status := s.api(t, http.MethodGet, "/v0/management/auth-files", "")
		return status == http.StatusOK && strings.Contains(body, want)
	})
}

// callsManagementAPI makes the call a task section names, with a body
// where it needs one, and wants a 2xx.
func callsManagementAPI(t *testing.T, s *readmeServer, cmd string) {
	method, path, _ := strings.Cut(cmd, " ")
	var body string
	switch path {
	case "/v0/management/api-keys":
		body = fmt.Sprintf(`[%q, "cpa-another-client"]`, s.clientKey)
	case "/v0/management/config.yaml":
		if method == http.MethodPut {
			body, _ = s.api(t, http.MethodGet, path, "")
		}
	case "/v0/management/usage", "/v0/management/usage/export":
		s.waitForUsage(t)
	case "/v0/management/usage/import":
		s.waitForUsage(t)
		body, _ = s.api(t, http.MethodGet, "/v0/management/usage/export", "")
	}
	if method != http.MethodGet && body == "" {
		t.Fatalf("%s: no body for it in callsManagementAPI; add one", cmd)
	}
	got, status := s.api(t, method, path, body)
	if status/100 != 2 {
		t.Errorf("%s answered %d: %s", cmd, status, got)
	}
	if path == "/v0/management/usage/import" {
		// The README: importing restores, de-duplicating.
		var r struct{ Added, Skipped int }
		if err := json.Unmarshal([]byte(got), &r); err != nil || r.Added != 0 || r.Skipped < 1 {
			t.Errorf("importing this server's own export: %s, want nothing added and the request skipped", got)
		}
	}
}

// waitForUsage waits until the proxied request startReadmeServer made is
// counted (usage is written behind the answer).
func (s *readmeServer) waitForUsage(t *testing.T) {
	t.Helper()
	counted := regexp.MustCompile(`"total_requests":\s*[1-9]`)
	waitFor(t, "the usage counts the proxied request", func() bool {
		body, status := s.api(t, http.MethodGet, "/v0/management/usage", "")
		return status == http.StatusOK && counted.MatchString(body)
	})
}

func (s *readmeServer) api(t *testing.T, method, path, body string) (string, int) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.mgmtKey)
	if strings.HasSuffix(path, ".yaml") {
		req.Header.Set("Content-Type", "application/yaml")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		return "", resp.StatusCode // a stream that stays open: its status is the answer
	}
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}

// fakeCodexOAuth answers the token exchange as OpenAI's does: tokens and
// an ID token whose claims name the account.
func fakeCodexOAuth(t *testing.T) *httptest.Server {
	t.Helper()
	claims, _ := json.Marshal(map[string]any{"email": "reader@example.com",
		"https://api.openai.com/auth": map[string]any{"chatgpt_account_id": "acct-readme-1", "chatgpt_plan_type": "plus"}})
	idToken := "e30." + base64.RawURLEncoding.EncodeToString(claims) + ".sig"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" || r.FormValue("code") != "the-code" || r.FormValue("code_verifier") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-readme", "refresh_token": "rt-readme", "id_token": idToken, "expires_in": 3600})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// waitFor polls cond, which reads what the server shows, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects a process's output, read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secondInstanceFromTheExample follows "Run several instances": next to the
// running server, config.example.yaml copied into a directory of its own
// with its own port, client key and a plain management key, started with
// -config, serves its own keys (the plain key hashed at load).
func secondInstanceFromTheExample(t *testing.T, first *readmeServer) {
	example := readFile(t, "config.example.yaml")
	second := &readmeServer{bin: first.bin, dir: filepath.Join(t.TempDir(), "cpa-2"), mgmtKey: "cpa-mgmt-second", log: &lockedBuffer{}}
	second.addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
	second.config = filepath.Join(second.dir, "config.yaml")
	for old, repl := range map[string]string{
		"\nport: 8317\n":         "\nport: " + strings.TrimPrefix(second.addr, "127.0.0.1:") + "\n",
		"\napi-keys: []\n":       "\napi-keys: [cpa-second-client]\n",
		"\n  secret-key: \"\"\n": "\n  secret-key: \"" + second.mgmtKey + "\"\n",
	} {
		if !strings.Contains(example, old) {
			t.Fatalf("config.example.yaml has no %q; update this test and the README's Run several instances", old)
		}
		example = strings.Replace(example, old, repl, 1)
	}
	if err := os.MkdirAll(second.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(second.config, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, second.bin, "-config", second.config)
	cmd.Dir = second.dir
	cmd.Env = append(os.Environ(), "HOME="+second.dir, "MANAGEMENT_PASSWORD=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = second.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	readUntil(t, stdout, "Loaded ")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if body, status := second.api(t, http.MethodGet, "/v0/management/api-keys", ""); status != http.StatusOK || !strings.Contains(body, "cpa-second-client") {
		t.Errorf("the second instance's management key: %d %s\n%s", status, body, second.log.String())
	}
	written, _ := os.ReadFile(second.config)
	if strings.Contains(string(written), second.mgmtKey) {
		t.Error("the plain management key stayed in the second instance's config.yaml")
	}
	if _, status := first.api(t, http.MethodGet, "/healthz", ""); status != http.StatusOK {
		t.Errorf("the first instance stopped answering: %d", status)
	}
}
