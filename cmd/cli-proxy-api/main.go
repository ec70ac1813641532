// Command cli-proxy-api runs the CLI Proxy API server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/cli-proxy-api/cli-proxy-api/internal/app"
	"github.com/cli-proxy-api/cli-proxy-api/internal/version"
)

// defaultConfig is used when -config is not given.
const defaultConfig = "config.yaml"

// exitUsage is the exit status of a command line that cannot be run
// (unknown flag or argument), as the flag package uses.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	configPath  string
	explicit    bool // -config was given
	initConfig  bool
	initRemote  bool
	showVersion bool
	healthcheck bool
	login       string
	// shortLogins are the -kimi-login/-xai-login flags given.
	shortLogins []string
	projectID   string
	// exportConfig is where -export-config writes the shared config.
	exportConfig string
}

// environment lists the variables the server reads, for -h.
const environment = `
Environment:
  MANAGEMENT_PASSWORD  an extra management key kept only in memory; it also
                       allows remote management
  WRITABLE_PATH        directory for logs/ (default: next to the config file)
  CPA_STORE            postgres:// URL of the database several instances share
                       (overrides store: in the config file)
  HOME                 resolves "~" in auth-dir (default auth-dir: ~/.cli-proxy-api)

Commands:
  version              print the version, commit and build date and exit
`

// parseArgs reads the command line. A help request returns flag.ErrHelp;
// any other mistake an error that says what was wrong.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("cli-proxy-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", defaultConfig, "path to config.yaml (the default one is created with new keys if missing)")
	fs.StringVar(&o.configPath, "c", defaultConfig, "shorthand for -config")
	fs.BoolVar(&o.initConfig, "init", false, "create the -config file with new keys if it does not exist")
	fs.BoolVar(&o.initRemote, "init-remote", false, "like -init, and a config created now listens on every interface and allows remote management (for containers, where the published port is the boundary)")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.BoolVar(&o.healthcheck, "healthcheck", false, "ask the server of -config for GET /healthz and exit 0 if it answers 200, else 1 (for container health checks)")
	fs.StringVar(&o.login, "login", "", "log in to a provider on this terminal (anthropic, codex, gemini-cli, antigravity, qwen, iflow, kimi, xai) and exit")
	for _, p := range []string{"kimi", "xai"} {
		fs.BoolFunc(p+"-login", "shorthand for -login "+p+" (the v7 spelling)", func(v string) error {
			if on, err := strconv.ParseBool(v); err != nil || !on {
				return fmt.Errorf("takes no value")
			}
			o.shortLogins = append(o.shortLogins, p)
			return nil
		})
	}
	fs.StringVar(&o.exportConfig, "export-config", "", "write the config shared through PostgreSQL (CPA_STORE or store: in -config) to this file (- for stdout), without its store: line, and exit")
	fs.StringVar(&o.projectID, "project-id", "", "Google Cloud project for -login gemini-cli (empty: the first; ALL: every project)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cli-proxy-api [flags] [version]\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), environment)
	}
	if err := fs.Parse(args); err != nil {
		return o, err // the flag package printed the problem and usage
	}
	fs.Visit(func(f *flag.Flag) { o.explicit = o.explicit || f.Name == "config" || f.Name == "c" })
	if len(o.shortLogins) > 1 || (len(o.shortLogins) == 1 && o.login != "") {
		err := fmt.Errorf("only one login at a time")
		fmt.Fprintln(stderr, err)
		return o, err
	}
	if len(o.shortLogins) == 1 {
		o.login = o.shortLogins[0]
	}
	switch rest := fs.Args(); {
	case len(rest) == 0:
	case len(rest) == 1 && rest[0] == "version":
		o.showVersion = true
	default:
		err := fmt.Errorf("unknown argument %q", rest[0])
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return o, err
	}
	return o, nil
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return exitUsage
	}
	if o.showVersion {
		fmt.Fprintln(stdout, versionLine())
		return 0
	}
	if o.healthcheck {
		if err := healthcheck(ctx, o.configPath); err != nil {
			fmt.Fprintln(stderr, "cli-proxy-api: unhealthy:", err)
			return 1
		}
		return 0
	}
	if o.exportConfig != "" {
		err := app.ExportConfig(ctx, app.Options{ConfigPath: o.configPath, EnvStore: os.Getenv("CPA_STORE"), Stdout: stdout, Stderr: stderr}, o.exportConfig)
		if err != nil {
			fmt.Fprintln(stderr, "cli-proxy-api:", err)
			return 1
		}
		return 0
	}
	envSecret := os.Getenv("MANAGEMENT_PASSWORD")
	if o.login != "" {
		err := app.Login(ctx, app.Options{ConfigPath: o.configPath, EnvSecret: envSecret, Stdout: stdout, Stderr: stderr},
			o.login, o.projectID, stdin)
		if err != nil {
			fmt.Fprintln(stderr, "cli-proxy-api:", err)
			return 1
		}
		return 0
	}
	err = app.Run(ctx, app.Options{
		ConfigPath: o.configPath,
		// A missing default config is created (first run); a missing
		// explicit one is a mistake unless -init says otherwise.
		CreateConfig:    !o.explicit || o.initConfig || o.initRemote,
		NewConfigRemote: o.initRemote,
		EnvSecret:       envSecret,
		EnvStore:        os.Getenv("CPA_STORE"),
		Stdout:          stdout,
		Stderr:          stderr,
	})
	if err != nil {
		fmt.Fprintln(stderr, "cli-proxy-api:", err)
		return 1
	}
	return 0
}

func versionLine() string {
	return fmt.Sprintf("cli-proxy-api %s (commit %s, built %s)", version.Version, version.Commit, version.BuildDate)
}
