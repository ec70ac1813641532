// Command dist builds the release archives (`make dist`): one per target
// platform, a .tar.gz (a .zip for Windows) holding the binary, README.md,
// config.example.yaml and LICENSE when there is one, plus SHA256SUMS.
// Archives carry fixed modification times and owners, so building the same
// commit twice gives the same bytes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// targets are the platforms a release covers.
var targets = []string{
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"windows/amd64", "windows/arm64",
}

// extraFiles go into every archive beside the binary, when present.
var extraFiles = []string{"README.md", "config.example.yaml", "LICENSE"}

func main() {
	out := flag.String("out", "dist", "directory for the archives (emptied first)")
	ldflags := flag.String("ldflags", "", "-ldflags for go build (the Makefile's, with the version stamped in)")
	version := flag.String("version", "dev", "version in the archive names")
	date := flag.String("date", "", "build date (RFC 3339), used as the archives' file times (default: now)")
	pkg := flag.String("pkg", "./cmd/cli-proxy-api", "package to build")
	only := flag.String("targets", strings.Join(targets, ","), "comma-separated GOOS/GOARCH list")
	flag.Parse()
	mtime := time.Now().UTC().Truncate(time.Second)
	if *date != "" {
		t, err := time.Parse(time.RFC3339, *date)
		if err != nil {
			fail(fmt.Errorf("-date: %w", err))
		}
		mtime = t
	}
	if err := build(context.Background(), *out, *pkg, *ldflags, *version, strings.Split(*only, ","), mtime); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "dist:", err)
	os.Exit(1)
}

// build cross-compiles pkg for each target into out and packs it.
func build(ctx context.Context, out, pkg, ldflags, version string, targets []string, mtime time.Time) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	work := filepath.Join(out, ".work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	var archives []string
	for _, t := range targets {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok {
			return fmt.Errorf("target %q is not GOOS/GOARCH", t)
		}
		exe := "cli-proxy-api"
		if goos == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(work, goos+"_"+goarch, exe)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		fmt.Fprintf(os.Stderr, "== %s/%s\n", goos, goarch)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s/%s: %w", goos, goarch, err)
		}
		files := []archiveFile{{name: exe, path: bin, mode: 0o755}}
		for _, f := range extraFiles {
			if _, err := os.Stat(f); err == nil {
				files = append(files, archiveFile{name: f, path: f, mode: 0o644})
			}
		}
		name := fmt.Sprintf("cli-proxy-api_%s_%s_%s", version, goos, goarch)
		var err error
		if goos == "windows" {
			name += ".zip"
			err = writeZip(filepath.Join(out, name), name[:len(name)-len(".zip")], files, mtime)
		} else {
			name += ".tar.gz"
			err = writeTarGz(filepath.Join(out, name), name[:len(name)-len(".tar.gz")], files, mtime)
		}
		if err != nil {
			return fmt.Errorf("pack %s: %w", name, err)
		}
		archives = append(archives, name)
	}
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	return writeChecksums(out, archives)
}
