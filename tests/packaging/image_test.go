// Package packaging tests what ships the server rather than the server:
// the container image's recipe, the release build, the README's commands.
// Here the Dockerfile is checked against the Makefile it relies on;
// `make image-test` (tests/container) builds and runs it with podman.
package packaging

import (
	"bufio"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository root, two levels up from this package.
const root = "../.."

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerfile is the Dockerfile's instructions, continuation lines joined.
type instruction struct{ op, args string }

func dockerfile(t *testing.T) []instruction {
	t.Helper()
	var out []instruction
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(readFile(t, "Dockerfile")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		op, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(op), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func find(ins []instruction, op string) []string {
	var out []string
	for _, in := range ins {
		if in.op == op {
			out = append(out, in.args)
		}
	}
	return out
}

// execForm decodes an exec-form (JSON array) argument list.
func execForm(t *testing.T, args string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		t.Fatalf("%q is not exec form (no shell in the image): %v", args, err)
	}
	return out
}

// The image's binary is built by `make build`, stamped with the build
// arguments, so it is built exactly as the Makefile builds it; and the
// Makefile's build is static and stamps variables that exist.
func TestImageIsBuiltByTheMakefilesBuild(t *testing.T) {
	ins := dockerfile(t)
	var build string
	for _, r := range find(ins, "RUN") {
		if strings.Contains(r, "make build") {
			build = r
		}
	}
	if build == "" {
		t.Fatal("the Dockerfile does not run `make build`")
	}
	for _, v := range []string{"VERSION", "COMMIT", "DATE"} {
		if !strings.Contains(build, v+`="${`+v+`}"`) {
			t.Errorf("make build in the Dockerfile does not pass %s from its build argument: %s", v, build)
		}
		if !slices.ContainsFunc(find(ins, "ARG"), func(a string) bool { return strings.HasPrefix(a, v+"=") }) {
			t.Errorf("no ARG %s in the Dockerfile", v)
		}
	}

	out, err := exec.Command("make", "-C", root, "-n", "build", "VERSION=v9.9.9", "COMMIT=abc1234", "DATE=2026-01-02T03:04:05Z", "BIN=/tmp/x").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	cmd := string(out)
	if !strings.Contains(cmd, "CGO_ENABLED=0 ") {
		t.Errorf("make build is not static (CGO_ENABLED=0), and the image is FROM scratch: %s", cmd)
	}
	stamped := regexp.MustCompile(`-X ([\w./-]+)/internal/version\.(\w+)=([^\s"]+)`).FindAllStringSubmatch(cmd, -1)
	module := modulePath(t)
	vars := versionVars(t)
	got := map[string]string{}
	for _, m := range stamped {
		if m[1] != module {
			t.Errorf("-X names module %s, go.mod says %s", m[1], module)
		}
		if !vars[m[2]] {
			t.Errorf("-X sets internal/version.%s, which does not exist", m[2])
		}
		got[m[2]] = m[3]
	}
	want := map[string]string{"Version": "v9.9.9", "Commit": "abc1234", "BuildDate": "2026-01-02T03:04:05Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("make build stamps %s=%q, want %q (%s)", k, got[k], v, cmd)
		}
	}

	// The builder's Go is the one go.mod asks for.
	goMod := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(readFile(t, "go.mod"))
	if goMod == nil || !slices.Contains(find(ins, "ARG"), "GO_VERSION="+goMod[1]) {
		t.Errorf("ARG GO_VERSION does not match go.mod's go %v", goMod)
	}
}

func modulePath(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^module (\S+)`).FindStringSubmatch(readFile(t, "go.mod"))
	if m == nil {
		t.Fatal("no module line in go.mod")
	}
	return m[1]
}

// versionVars are the package-level string variables of internal/version.
func versionVars(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, "internal/version/version.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, s := range g.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					out[n.Name] = true
				}
			}
		}
	}
	return out
}

// The image runs as a non-root user from a /data volume, and its health
// check is the binary's own, against the config the server runs with.
func TestImageRunsUnprivilegedWithItsOwnHealthCheck(t *testing.T) {
	ins := dockerfile(t)
	froms := find(ins, "FROM")
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1], "scratch") {
		t.Errorf("not a multi-stage build ending in an empty image: %q", froms)
	}
	users := find(ins, "USER")
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1], "0") || strings.HasPrefix(users[len(users)-1], "root") {
		t.Errorf("the image runs as root: USER %q", users)
	}
	if !slices.Contains(find(ins, "VOLUME"), "/data") || !slices.Contains(find(ins, "ENV"), "HOME=/data") {
		t.Error("no /data volume, or HOME (and so the auth-dir ~/.cli-proxy-api) outside it")
	}
	entry := execForm(t, find(ins, "ENTRYPOINT")[0])
	hc := find(ins, "HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("HEALTHCHECK: %q", hc)
	}
	_, check, ok := strings.Cut(hc[0], "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK without CMD: %s", hc[0])
	}
	probe := execForm(t, check)
	if probe[0] != entry[0] || !slices.Contains(probe, "-healthcheck") {
		t.Errorf("health check %q is not the entrypoint binary's -healthcheck (%q)", probe, entry)
	}
	if configOf(probe) != configOf(entry) || configOf(entry) != "/data/config.yaml" {
		t.Errorf("health check reads %q, the server %q; both must be /data/config.yaml", configOf(probe), configOf(entry))
	}
	if !slices.Contains(entry, "-init-remote") {
		t.Error("the entrypoint does not create a first config that can be reached from outside the container")
	}
}

func configOf(args []string) string {
	for i, a := range args {
		if (a == "-config" || a == "-c") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// Nothing a local run creates (keys, usage data, logs) reaches the build
// context, nor the bulky trees the build does not need.
func TestDockerignoreKeepsRunFilesOut(t *testing.T) {
	lines := strings.Split(readFile(t, ".dockerignore"), "\n")
	for _, want := range []string{".git", "config.yaml", "usage.db*", "logs/", "bin/", "dist/", "**/node_modules/"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}

// composeFile is what the tests read of compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Profiles    []string                 `yaml:"profiles"`
		Image       string                   `yaml:"image"`
		Build       struct{ Context string } `yaml:"build"`
		Ports       []string                 `yaml:"ports"`
		Volumes     []string                 `yaml:"volumes"`
		Environment map[string]string        `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func readCompose(t *testing.T) composeFile {
	var c composeFile
	if err := yaml.Unmarshal([]byte(readFile(t, "compose.yaml")), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComposeRunsOneInstanceOnTheDataVolume(t *testing.T) {
	c := readCompose(t)
	var unprofiled []string
	for name, svc := range c.Services {
		if len(svc.Profiles) == 0 {
			unprofiled = append(unprofiled, name)
		}
	}
	s, ok := c.Services["cli-proxy-api"]
	if !ok || len(unprofiled) != 1 {
		t.Fatalf("services started by a plain docker compose up: %v, want cli-proxy-api alone", unprofiled)
	}
	if s.Build.Context != "." || !slices.Contains(s.Ports, "127.0.0.1:8317:8317") {
		t.Errorf("build %q, ports %q", s.Build.Context, s.Ports)
	}
	if len(s.Volumes) != 1 || !strings.HasSuffix(s.Volumes[0], ":/data") {
		t.Errorf("volumes %q, want one volume on /data", s.Volumes)
	}
	if _, ok := c.Volumes[strings.Split(s.Volumes[0], ":")[0]]; !ok {
		t.Errorf("volume %s is not declared", s.Volumes[0])
	}
}

// The postgres profile runs PostgreSQL and two instances on it, each with
// its own data volume and port; the second starts once the first has
// seeded the database.
func TestComposePostgresProfileRunsTwoInstancesOnOneDatabase(t *testing.T) {
	c := readCompose(t)
	pg, ok := c.Services["postgres"]
	if !ok || !slices.Equal(pg.Profiles, []string{"postgres"}) || !strings.HasPrefix(pg.Image, "postgres:") {
		t.Fatalf("postgres service: %+v", pg)
	}
	ports := map[string]bool{}
	for _, name := range []string{"cpa-1", "cpa-2"} {
		s, ok := c.Services[name]
		if !ok || !slices.Equal(s.Profiles, []string{"postgres"}) {
			t.Fatalf("%s: %+v", name, s)
		}
		if store := s.Environment["CPA_STORE"]; !strings.HasPrefix(store, "postgres://cpa:") || !strings.Contains(store, "@postgres:5432/cpa") {
			t.Errorf("%s's CPA_STORE is %q", name, store)
		}
		if len(s.Volumes) != 1 || !strings.HasSuffix(s.Volumes[0], ":/data") {
			t.Errorf("%s's volumes %q, want one of its own on /data", name, s.Volumes)
		}
		if _, ok := c.Volumes[strings.Split(s.Volumes[0], ":")[0]]; !ok {
			t.Errorf("volume %s is not declared", s.Volumes[0])
		}
		for _, p := range s.Ports {
			ports[p] = true
		}
	}
	if len(ports) != 2 || c.Services["cpa-1"].Volumes[0] == c.Services["cpa-2"].Volumes[0] {
		t.Errorf("the two instances share a port or a volume: %v", ports)
	}
	if c.Services["cpa-1"].DependsOn["postgres"].Condition != "service_healthy" || c.Services["cpa-2"].DependsOn["cpa-1"].Condition != "service_healthy" {
		t.Errorf("start order: cpa-1 after a healthy postgres, cpa-2 after a healthy cpa-1")
	}
}
