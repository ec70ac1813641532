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

// defaultConfig is used when -config is not given.
const defaultConfig = "config.yaml"

func main() {
	var configPath string
	flag.StringVar(&configPath, "config", defaultConfig, "path to config.yaml (the default one is created with new keys if missing)")
	flag.StringVar(&configPath, "c", defaultConfig, "shorthand for -config")
	initConfig := flag.Bool("init", false, "create the -config file with new keys if it does not exist")
	showVersion := flag.Bool("version", false, "print the version and exit")
	login := flag.String("login", "", "log in to a provider on this terminal (anthropic, codex, gemini-cli, antigravity, qwen, iflow) and exit")
	projectID := flag.String("project-id", "", "Google Cloud project for -login gemini-cli (empty: the first; ALL: every project)")
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" || f.Name == "c" })
	if *showVersion {
		fmt.Printf("cli-proxy-api %s (commit %s, built %s)\n", version.Version, version.Commit, version.BuildDate)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *login != "" {
		err := app.Login(ctx, app.Options{ConfigPath: configPath, EnvSecret: os.Getenv("MANAGEMENT_PASSWORD"), Stdout: os.Stdout, Stderr: os.Stderr},
			*login, *projectID, os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cli-proxy-api:", err)
			os.Exit(1)
		}
		return
	}
	err := app.Run(ctx, app.Options{
		ConfigPath: configPath,
		// A missing default config is created (first run); a missing
		// explicit one is a mistake unless -init says otherwise.
		CreateConfig: !explicit || *initConfig,
		EnvSecret:    os.Getenv("MANAGEMENT_PASSWORD"),
		Stdout:       os.Stdout,
		Stderr:       os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cli-proxy-api:", err)
		os.Exit(1)
	}
}
