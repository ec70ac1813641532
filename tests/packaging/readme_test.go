package packaging

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quickStartChild marks the test process re-run inside a network
// namespace of its own, where port 8317 (the first run's) is free whatever
// else runs on the machine.
const quickStartChild = "CPA_README_QUICKSTART_CHILD"

// fence is one fenced code block of the README: its language and text.
type fence struct{ lang, body string }

// readmeSection returns the fenced blocks between two headings.
func readmeSection(t *testing.T, from, to string) []fence {
	t.Helper()
	text := readFile(t, "README.md")
	i := strings.Index(text, "\n"+from+"\n")
	j := strings.Index(text, "\n"+to+"\n")
	if i < 0 || j < i {
		t.Fatalf("README has no section %q before %q", from, to)
	}
	var out []fence
	for _, m := range regexp.MustCompile("(?ms)^```(\\w*)\n(.*?)^```\n").FindAllStringSubmatch(text[i:j], -1) {
		out = append(out, fence{m[1], m[2]})
	}
	return out
}

// The quick start "from source" as a newcomer follows it: `make run`, the
// exports and the curl that adds a provider, the curl that calls it and the
// OpenAI SDK snippet, run as written against the real binary. Only the
// upstream's address is replaced, by a fake OpenAI server, and the two
// placeholder keys by the keys the first run printed.
func TestReadmeQuickStartFromSource(t *testing.T) {
	if os.Getenv(quickStartChild) != "" {
		runQuickStart(t)
		return
	}
	t.Logf("%s", inNetns(t, "TestReadmeQuickStartFromSource"))
}

// inNetns builds the binary as `make run` does and runs the test named
// again in a network namespace of its own (CPA_BIN names the binary), for
// tests that need the first run's fixed port. It returns the output.
func inNetns(t *testing.T, name string) []byte {
	t.Helper()
	for _, tool := range []string{"unshare", "ip", "bash", "curl", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if err := exec.Command("unshare", "-rn", "true").Run(); err != nil {
		t.Skipf("cannot make a network namespace here (unshare -rn): %v", err)
	}
	// What `make run` runs: the Makefile's build, then the binary.
	bin := filepath.Join(t.TempDir(), "cli-proxy-api")
	if out, err := exec.Command("make", "-C", root, "--no-print-directory", "build", "BIN="+bin).CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "-rn", os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), quickStartChild+"=1", "CPA_BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s failed: %v\n%s", name, err, out)
	}
	return out
}

// runQuickStart is the test inside the namespace.
func runQuickStart(t *testing.T) {
	loopbackUp(t)
	blocks := readmeSection(t, "### From source", "### With Docker")
	if len(blocks) != 5 || blocks[0].body != "make run\n" || blocks[1].lang != "" || blocks[2].lang != "sh" || blocks[3].lang != "sh" || blocks[4].lang != "js" {
		t.Fatalf("the quick start's blocks changed (make run, banner, add a provider, curl, SDK); update this test:\n%q", blocks)
	}

	const answer = "Hello from the fake upstream"
	var mu sync.Mutex
	var upstreamAuth []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upstreamAuth = append(upstreamAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}`, answer)
	}))
	defer up.Close()

	// 1. make run, in an empty directory: the first run.
	dir := t.TempDir()
	server := exec.Command(os.Getenv("CPA_BIN"))
	server.Dir = dir
	server.Env = append(os.Environ(), "HOME="+dir)
	stdout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	server.Stderr = &stderr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = server.Process.Signal(syscall.SIGTERM)
		_ = server.Wait()
	}()
	printed := readUntil(t, stdout, "Loaded ")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	keys := regexp.MustCompile(`management key: (\S+)\n  client API key: (\S+)`).FindStringSubmatch(printed)
	if keys == nil {
		t.Fatalf("no keys printed:\n%s\n%s", printed, stderr.String())
	}
	// The banner the README shows has the labels the server prints.
	for _, l := range strings.Split(blocks[1].body, "\n") {
		if m := regexp.MustCompile(`^  ([A-Z][A-Za-z ]+?)  +\S`).FindStringSubmatch(l); m != nil && !strings.Contains(printed, "  "+m[1]+" ") {
			t.Errorf("the README's banner shows %q, the server does not print it:\n%s", m[1], printed)
		}
	}

	// 2. and 3. as one terminal session.
	script := blocks[2].body + blocks[3].body
	script = regexp.MustCompile(`(?m)^export MANAGEMENT_KEY=\S+`).ReplaceAllString(script, "export MANAGEMENT_KEY="+keys[1])
	script = regexp.MustCompile(`(?m)^export CPA_KEY=\S+`).ReplaceAllString(script, "export CPA_KEY="+keys[2])
	if !strings.Contains(script, "https://api.openai.com/v1") {
		t.Fatal("the quick start no longer adds https://api.openai.com/v1; update this test")
	}
	script = strings.ReplaceAll(script, "https://api.openai.com/v1", up.URL+"/v1")
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), answer) {
		t.Fatalf("steps 2 and 3: %v\n%s\nserver log:\n%s", err, out, stderr.String())
	}
	mu.Lock()
	if len(upstreamAuth) == 0 || upstreamAuth[0] != "Bearer sk-..." {
		t.Errorf("the upstream saw Authorization %q, want the OPENAI_API_KEY of the README", upstreamAuth)
	}
	mu.Unlock()

	// 3. with the OpenAI SDK, where tests/sdk has it installed (make
	// sdk-deps; .ci/run runs this test again after make test).
	sdk, _ := filepath.Abs(filepath.Join(root, "tests/sdk/node_modules"))
	if _, err := os.Stat(filepath.Join(sdk, "openai")); err != nil {
		t.Logf("SDK step skipped: no %s/openai (run make sdk-deps)", sdk)
		return
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Log("SDK step skipped: no node")
		return
	}
	js := t.TempDir()
	if err := os.Symlink(sdk, filepath.Join(js, "node_modules")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(js, "hello.mjs"), []byte(blocks[4].body), 0o644); err != nil {
		t.Fatal(err)
	}
	node := exec.Command("node", "hello.mjs")
	node.Dir = js
	node.Env = append(os.Environ(), "CPA_KEY="+keys[2])
	out, err = node.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != answer {
		t.Fatalf("node hello.mjs: %v\n%s", err, out)
	}
}

func loopbackUp(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("ip link set lo up: %v\n%s", err, out)
	}
}

// readUntil reads lines from r until one contains marker, and returns
// what it read. The server prints the marker once it serves.
func readUntil(t *testing.T, r io.Reader, marker string) string {
	t.Helper()
	var b strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), marker) {
			return b.String()
		}
	}
	t.Fatalf("the server stopped before printing %q:\n%s", marker, b.String())
	return ""
}
