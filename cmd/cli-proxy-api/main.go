// Command cli-proxy-api runs the CLI Proxy API server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

func main() {
	var configPath string
	flag.StringVar(&configPath, "config", "config.yaml", "path to config.yaml (created with new keys if missing)")
	flag.StringVar(&configPath, "c", "config.yaml", "shorthand for -config")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Printf("cli-proxy-api %s (commit %s, built %s)\n", version.Version, version.Commit, version.BuildDate)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := app.Run(ctx, app.Options{
		ConfigPath: configPath,
		EnvSecret:  os.Getenv("MANAGEMENT_PASSWORD"),
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli-proxy-api:", err)
		os.Exit(1)
	}
}
