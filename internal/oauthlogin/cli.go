package oauthlogin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
	"github.com/cli-proxy-api/cli-proxy-api/internal/providers"
)

// CLILogin runs a login on a terminal: it prints the URL, then reads the
// redirect URL the browser ended on (or, for the device-flow logins, waits for the device to
// be confirmed). It is the same session, exchange and save as the API's.
func CLILogin(ctx context.Context, m *Manager, provider, projectID string, in io.Reader, out io.Writer) error {
	name := providers.LoginName(provider)
	if name == "" {
		return fmt.Errorf("unknown provider %q (anthropic, codex, gemini-cli, antigravity, qwen, iflow, kimi, xai)", provider)
	}
	st, err := m.Start(name, StartOptions{ProjectID: projectID})
	if err != nil {
		return fmt.Errorf("start login: %s", errMsg(err))
	}
	fmt.Fprintf(out, "Open this URL in a browser and log in:\n\n  %s\n\n", st.URL)
	p, _ := m.Provider(name)
	if p.DeviceFlow {
		if st.UserCode != "" {
			fmt.Fprintf(out, "Confirm the code %s there. Waiting…\n", st.UserCode)
		}
		status, reason := m.Wait(ctx, st.State)
		return report(out, status, reason)
	}
	fmt.Fprintf(out, "The browser then goes to %s…, which may show an error page.\nPaste the full address of that page here and press Enter:\n", p.RedirectURI)
	lines := bufio.NewScanner(in)
	lines.Buffer(make([]byte, 64<<10), 64<<10)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" {
			continue
		}
		code, state, perr, err := ParseRedirect(line)
		if err == nil && code == "" && perr == "" && !strings.Contains(line, "://") {
			code = line // a bare code, as Claude's page shows it
		}
		if state == "" {
			state = st.State
		}
		if err == nil {
			err = m.Callback(ctx, name, state, code, perr)
		}
		if err != nil {
			fmt.Fprintf(out, "That did not work: %s. Paste the address again:\n", errMsg(err))
			continue
		}
		status, reason := m.Wait(ctx, st.State)
		return report(out, status, reason)
	}
	if err := lines.Err(); err != nil {
		return fmt.Errorf("read the redirect: %w", err)
	}
	return fmt.Errorf("no redirect URL was pasted")
}

func report(out io.Writer, status, reason string) error {
	if status != "ok" {
		return fmt.Errorf("login failed: %s", reason)
	}
	fmt.Fprintln(out, "Login complete; the credential is saved in auth-dir.")
	return nil
}

func errMsg(err error) string {
	if m := errs.Message(err); m != "" {
		return m
	}
	return err.Error()
}
