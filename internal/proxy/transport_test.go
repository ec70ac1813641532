package proxy

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
)

// httpProxy is a local forward proxy that demands user:pass: it tunnels
// CONNECT (for https upstreams) and forwards absolute-form requests (for
// http ones).
type httpProxy struct {
	srv              *httptest.Server
	connects, plains atomic.Int32
	denied           atomic.Int32
}

func newHTTPProxy(t *testing.T, user, pass string) *httpProxy {
	p := &httpProxy{}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != want {
			p.denied.Add(1)
			w.WriteHeader(http.StatusProxyAuthRequired)
			return
		}
		if r.Method == http.MethodConnect {
			p.connects.Add(1)
			up, err := net.Dial("tcp", r.Host)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			w.WriteHeader(200)
			conn, buf, _ := http.NewResponseController(w).Hijack()
			pipe(conn, buf.Reader, up)
			return
		}
		p.plains.Add(1)
		r.RequestURI = ""
		r.Header.Del("Proxy-Authorization")
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func pipe(client net.Conn, clientR io.Reader, up net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(up, clientR); up.Close() })
	wg.Go(func() { _, _ = io.Copy(client, up); client.Close() })
	wg.Wait()
}

// socks5Server is a minimal RFC 1928 server with RFC 1929 user/password
// authentication and CONNECT only.
type socks5Server struct {
	ln    net.Listener
	conns atomic.Int32
}

func newSOCKS5(t *testing.T, user, pass string) *socks5Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &socks5Server{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c, user, pass)
		}
	}()
	return s
}

func (s *socks5Server) serve(c net.Conn, user, pass string) {
	defer c.Close()
	br := bufio.NewReader(c)
	read := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil
		}
		return b
	}
	hdr := read(2)
	if hdr == nil || hdr[0] != 5 || read(int(hdr[1])) == nil {
		return
	}
	_, _ = c.Write([]byte{5, 2}) // username/password
	ver := read(2)
	if ver == nil {
		return
	}
	u := string(read(int(ver[1])))
	pl := read(1)
	if pl == nil {
		return
	}
	pw := string(read(int(pl[0])))
	if u != user || pw != pass {
		_, _ = c.Write([]byte{1, 1})
		return
	}
	_, _ = c.Write([]byte{1, 0})
	req := read(4)
	if req == nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1:
		host = net.IP(read(4)).String()
	case 3:
		l := read(1)
		host = string(read(int(l[0])))
	case 4:
		host = net.IP(read(16)).String()
	}
	port := binary.BigEndian.Uint16(read(2))
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		_, _ = c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	s.conns.Add(1)
	_, _ = c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	pipe(c, br, up)
}

func TestUpstreamProxies(t *testing.T) {
	tlsUp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"served_by":"tls"}`))
	}))
	t.Cleanup(tlsUp.Close)
	upstreamTLS = &tls.Config{RootCAs: tlsUp.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	t.Cleanup(func() { upstreamTLS = nil })
	plainUp := newUpstream(t, "plain")

	hp := newHTTPProxy(t, "alice", "s3cret")
	socks := newSOCKS5(t, "bob", "hunter2")
	hpURL := strings.Replace(hp.srv.URL, "http://", "http://alice:s3cret@", 1)
	socksURL := "socks5://bob:hunter2@" + socks.ln.Addr().String()

	cfg := baseConfig()
	cfg.ProxyURL = hpURL                                                                           // global
	cfg.GeminiKeys = []config.GeminiKey{{APIKey: "g", BaseURL: tlsUp.URL}}                         // global proxy, CONNECT
	cfg.ClaudeKeys = []config.ClaudeKey{{APIKey: "c", BaseURL: plainUp.URL(), ProxyURL: socksURL}} // own proxy wins
	cfg.CodexKeys = []config.CodexKey{{APIKey: "x", BaseURL: plainUp.URL()}}                       // global proxy, absolute-form
	ts := newTestServer(t, cfg)

	if code, _, body := ts.do(t, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", clientKey, `{}`); code != 200 || !strings.Contains(body, "tls") {
		t.Fatalf("via CONNECT: %d %s", code, body)
	}
	if hp.connects.Load() != 1 {
		t.Fatalf("CONNECTs %d", hp.connects.Load())
	}
	if code, _, body := ts.do(t, "POST", "/v1/messages", clientKey, `{"model":"claude-opus-4-20250514"}`); code != 200 || !strings.Contains(body, "plain") {
		t.Fatalf("via socks5: %d %s", code, body)
	}
	if socks.conns.Load() != 1 {
		t.Fatalf("socks connections %d", socks.conns.Load())
	}
	if code, _, body := ts.do(t, "POST", "/v1/responses", clientKey, `{"model":"gpt-5"}`); code != 200 || !strings.Contains(body, "plain") {
		t.Fatalf("via http proxy: %d %s", code, body)
	}
	if hp.plains.Load() != 1 || hp.denied.Load() != 0 {
		t.Fatalf("http proxy: %d forwarded, %d denied", hp.plains.Load(), hp.denied.Load())
	}
	// A second request reuses the pooled connection through the proxy.
	ts.do(t, "POST", "/v1beta/models/gemini-2.5-pro:generateContent", clientKey, `{}`)
	if hp.connects.Load() != 1 {
		t.Fatalf("transport not reused: %d CONNECTs", hp.connects.Load())
	}

	// Hot change of the global proxy-url: the next request goes direct.
	cfg.ProxyURL = ""
	ts.apply(t, cfg)
	ts.do(t, "POST", "/v1/responses", clientKey, `{"model":"gpt-5"}`)
	if hp.plains.Load() != 1 {
		t.Fatal("request still went through the removed proxy")
	}
	// Wrong proxy credentials: the upstream is unreachable, failover ends in 502... or the proxy's 407.
	cfg.ProxyURL = strings.Replace(hpURL, "s3cret", "wrong", 1)
	ts.apply(t, cfg)
	if code, _, _ := ts.do(t, "POST", "/v1/responses", clientKey, `{"model":"gpt-5"}`); code == 200 {
		t.Fatal("wrong proxy password still worked")
	}
}

func TestPrepareRefusesWhatItCannotBuild(t *testing.T) {
	p, _ := New(Options{})
	cfg := baseConfig()
	cfg.CodexKeys = []config.CodexKey{{APIKey: "sk-very-secret-upstream", ProxyURL: "ftp://u:pw@host"}}
	if _, err := p.Prepare(nil, cfg); err == nil || strings.Contains(err.Error(), "sk-very-secret") || strings.Contains(err.Error(), "pw@") {
		t.Fatalf("Prepare: %v", err)
	}
	cfg = baseConfig()
	cfg.Payload.Override = []config.PayloadRule{{Models: []config.PayloadModel{{Name: "*"}}, Params: map[string]any{"": 1}}}
	if _, err := p.Prepare(nil, cfg); err == nil || !strings.Contains(err.Error(), "payload.override[0]") {
		t.Fatalf("Prepare: %v", err)
	}
	if p.state.Load() != nil {
		t.Fatal("a refused config was applied")
	}
}
