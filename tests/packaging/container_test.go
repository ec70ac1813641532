package packaging

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The image's entrypoint and health check, run as the image runs them (no
// container engine here): HOME and the config in /data, -init-remote.
// The first start prints the keys once and keeps everything it creates in
// /data, the config listens on every interface, -healthcheck follows the
// server, and a second start prints no keys.
func TestContainerEntrypointKeepsEverythingInData(t *testing.T) {
	if os.Getenv(quickStartChild) == "" {
		inNetns(t, "TestContainerEntrypointKeepsEverythingInData")
		return
	}
	loopbackUp(t)
	ins := dockerfile(t)
	entry := execForm(t, find(ins, "ENTRYPOINT")[0])
	hc := find(ins, "HEALTHCHECK")[0]
	probe := execForm(t, hc[strings.Index(hc, "CMD ")+4:])
	data := t.TempDir()
	// The image's paths, moved under a temporary /data.
	args := func(a []string) []string {
		out := slices.Clone(a[1:])
		for i, s := range out {
			out[i] = strings.Replace(s, "/data/", data+"/", 1)
		}
		return out
	}
	bin := os.Getenv("CPA_BIN")
	start := func() (string, func()) {
		cmd := exec.Command(bin, args(entry)...)
		cmd.Dir = data
		cmd.Env = append(os.Environ(), "HOME="+data)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		printed := readUntil(t, stdout, "Loaded ")
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		return printed, func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}
	}
	healthy := func() bool {
		return exec.Command(bin, args(probe)...).Run() == nil
	}

	printed, stop := start()
	if !strings.Contains(printed, "management key: ") || !strings.Contains(printed, "(every interface)") {
		t.Fatalf("first start:\n%s", printed)
	}
	if !healthy() {
		t.Fatal("the health check fails against the running server")
	}
	stop()
	if healthy() {
		t.Fatal("the health check passes with the server stopped")
	}
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	for _, want := range []string{"config.yaml", "usage.db", ".cli-proxy-api"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s is not in /data after a first start (%q)", want, got)
		}
	}
	if st, err := os.Stat(filepath.Join(data, ".cli-proxy-api")); err != nil || !st.IsDir() {
		t.Errorf("the auth-dir is not in /data: %v", err)
	}

	printed, stop = start()
	defer stop()
	if strings.Contains(printed, "management key: ") {
		t.Fatalf("a second start printed keys again:\n%s", printed)
	}
}
