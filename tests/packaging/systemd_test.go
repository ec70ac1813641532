package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The systemd unit example is valid for systemd (where systemd-analyze is
// installed) and starts the server with a config in its state directory,
// created at the first start.
func TestSystemdUnitExample(t *testing.T) {
	t.Parallel()
	unit := readFile(t, "docs/cli-proxy-api.service")
	exec1 := regexp.MustCompile(`(?m)^ExecStart=(\S+) (.*)$`).FindStringSubmatch(unit)
	if exec1 == nil {
		t.Fatal("no ExecStart")
	}
	if args := strings.Fields(exec1[2]); strings.Join(args, " ") != "-config /var/lib/cli-proxy-api/config.yaml -init" {
		t.Errorf("ExecStart arguments %q", args)
	}
	for _, want := range []string{"StateDirectory=cli-proxy-api", "User=cli-proxy-api", "Environment=HOME=/var/lib/cli-proxy-api", "NoNewPrivileges=true"} {
		if !strings.Contains(unit, "\n"+want+"\n") {
			t.Errorf("the unit lacks %s", want)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	// The binary is not installed here: any executable stands in for it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cli-proxy-api.service")
	if err := os.WriteFile(path, []byte(strings.Replace(unit, "ExecStart="+exec1[1], "ExecStart="+self, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
