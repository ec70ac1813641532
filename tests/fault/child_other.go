//go:build !linux

package main

import "os/exec"

// dieWithParent has no portable equivalent; the tool's own cleanup kills servers.
func dieWithParent(*exec.Cmd) {}
