package requestlog

import (
	"context"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// secretHeader reports whether a header carries a credential: the auth
// headers of every provider and anything that names a key, token, secret
// or cookie.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, s := range []string{"key", "token", "secret", "auth", "session", "password"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// maskValue keeps an auth scheme ("Bearer") and masks the credential.
func maskValue(v string) string {
	if scheme, cred, ok := strings.Cut(v, " "); ok && !strings.ContainsAny(scheme, "=;") {
		return scheme + " " + config.MaskKey(cred)
	}
	return config.MaskKey(v)
}

func writeHeaders(w io.Writer, h map[string][]string) {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range h[k] {
			if secretHeader(k) {
				v = maskValue(v)
			}
			io.WriteString(w, k+": "+strings.Map(noControl, v)+"\n")
		}
	}
}

// noControl drops line breaks and other controls, so a header value can
// never forge a line of the log.
func noControl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

// secretParam reports whether a query parameter carries a credential
// (Gemini's ?key=, access_token, …).
func secretParam(name string) bool {
	n := strings.ToLower(name)
	return n == "key" || strings.Contains(n, "key") || strings.Contains(n, "token") || strings.Contains(n, "secret") || n == "auth"
}

// maskURL masks secret query parameters of a URL or request URI.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	if u.User != nil {
		u.User = url.User("…")
	}
	if u.RawQuery == "" {
		return u.String()
	}
	q := u.Query()
	for k, vs := range q {
		if secretParam(k) {
			for i := range vs {
				vs[i] = config.MaskKey(vs[i])
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (l *Logger) noteWritten(n int64) {
	if l.written.Add(n) > l.cur.Load().maxBytes/8 {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// Run keeps the directory within its limits: a sweep at start, every
// interval, and soon after enough has been written to matter. It returns
// when ctx ends.
func (l *Logger) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l.Sweep()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-l.kick:
		}
	}
}

// Sweep deletes log files older than the age limit, then the oldest until
// the total is within the size limit, and temporary files left by a
// crash. It returns how many files it removed.
func (l *Logger) Sweep() int {
	l.sweepMu.Lock()
	defer l.sweepMu.Unlock()
	l.written.Store(0)
	s := l.cur.Load()
	all, err := l.list()
	if err != nil {
		l.log.Warn("request logs: sweep failed", "error", err)
		return 0
	}
	now := l.now()
	sort.Slice(all, func(i, j int) bool { return all[i].Modified.Before(all[j].Modified) })
	var total int64
	var keep []FileInfo
	removed := 0
	for _, f := range all {
		own := strings.HasSuffix(f.Name, ".log") && (validLogName(f.Name))
		tmp := strings.HasSuffix(f.Name, ".tmp") && strings.HasPrefix(f.Name, "request-body-")
		switch {
		case tmp && now.Sub(f.Modified) > time.Hour:
			if l.root.Remove(f.Name) == nil {
				removed++
			}
		case own && now.Sub(f.Modified) > s.maxAge:
			if l.root.Remove(f.Name) == nil {
				removed++
			}
		case own:
			keep = append(keep, f)
			total += f.Size
		}
	}
	for i := 0; total > s.maxBytes && i < len(keep); i++ {
		if err := l.root.Remove(keep[i].Name); err == nil || os.IsNotExist(err) {
			total -= keep[i].Size
			removed++
		}
	}
	return removed
}

// validLogName matches the names this package writes (…-<id>.log), so a
// sweep never deletes an application log or a file someone put there.
func validLogName(name string) bool {
	base := strings.TrimSuffix(name, ".log")
	i := strings.LastIndexByte(base, '-')
	if i < 0 || !validID.MatchString(base[i+1:]) {
		return false
	}
	// …-YYYY-MM-DDTHHMMSS-<id>
	rest := base[:i]
	return len(rest) > 17 && rest[len(rest)-7] == 'T' && rest[len(rest)-18] == '-'
}
