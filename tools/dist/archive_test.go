package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testFiles(t *testing.T) []archiveFile {
	t.Helper()
	dir := t.TempDir()
	bin, readme := filepath.Join(dir, "bin"), filepath.Join(dir, "README.md")
	if err := os.WriteFile(bin, []byte("\x7fELF binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, []byte("# read me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []archiveFile{{name: "cli-proxy-api", path: bin, mode: 0o755}, {name: "README.md", path: readme, mode: 0o644}}
}

var mtime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Archives unpack into one directory named like the archive, with the
// binary executable, and the same input gives the same bytes.
func TestTarGzHoldsTheFilesUnderOneDirectory(t *testing.T) {
	t.Parallel()
	files := testFiles(t)
	out := t.TempDir()
	a, b := filepath.Join(out, "a.tar.gz"), filepath.Join(out, "b.tar.gz")
	for _, p := range []string{a, b} {
		if err := writeTarGz(p, "cli-proxy-api_v1_linux_amd64", files, mtime); err != nil {
			t.Fatal(err)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("two packs of the same files differ")
	}
	gz, err := gzip.NewReader(bytes.NewReader(ab))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "cli-proxy-api_v1_linux_amd64/cli-proxy-api" && (h.Mode != 0o755 || !h.ModTime.Equal(mtime)) {
			t.Errorf("binary mode %o, time %v", h.Mode, h.ModTime)
		}
	}
	if strings.Join(names, ",") != "cli-proxy-api_v1_linux_amd64/cli-proxy-api,cli-proxy-api_v1_linux_amd64/README.md" {
		t.Errorf("entries %q", names)
	}
}

func TestZipHoldsTheFilesUnderOneDirectory(t *testing.T) {
	t.Parallel()
	files := testFiles(t)
	p := filepath.Join(t.TempDir(), "w.zip")
	if err := writeZip(p, "cli-proxy-api_v1_windows_arm64", files, mtime); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 2 || zr.File[0].Name != "cli-proxy-api_v1_windows_arm64/cli-proxy-api" || zr.File[1].Name != "cli-proxy-api_v1_windows_arm64/README.md" {
		t.Fatalf("entries %v", zr.File)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if string(body) != "\x7fELF binary" {
		t.Fatalf("binary content %q", body)
	}
}

func TestChecksumsAreWhatSha256sumChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.tar.gz"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeChecksums(dir, []string{"x.tar.gz"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	sum := sha256.Sum256([]byte("abc"))
	if string(got) != hex.EncodeToString(sum[:])+"  x.tar.gz\n" {
		t.Fatalf("SHA256SUMS = %q", got)
	}
}
