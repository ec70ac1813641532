package authfiles

// Credentials built from material the operator pastes or uploads, rather
// than from an OAuth login: Vertex service-account keys and Gemini web
// cookies. Both are checked here so a file that can never work is refused
// before it is written.

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// VertexResult is what an import saved.
type VertexResult struct {
	File, ProjectID, Email, Location string
}

// DefaultVertexLocation is used when the import names no region.
const DefaultVertexLocation = "us-central1"

var (
	ansiEscape  = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	pemMarkers  = regexp.MustCompile(`(?s)-----BEGIN ([A-Z ]+)-----(.*?)-----END ([A-Z ]+)-----`)
	nonBase64   = regexp.MustCompile(`[^A-Za-z0-9+/=]`)
	unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_@.-]`)
	locationRe  = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
)

func invalidSA(msg string) error {
	return &errs.Error{Kind: errs.Invalid, Msg: "invalid service account", Err: errs.New(errs.Invalid, "%s", msg)}
}

// VertexMessage returns the detail of an invalid-service-account error,
// which the API sends as `message`.
func VertexMessage(err error) string {
	var e *errs.Error
	if errors.As(err, &e) && e.Msg == "invalid service account" && e.Err != nil {
		return errs.Message(e.Err)
	}
	return ""
}

// ImportVertex validates a service-account key and saves it as
// vertex-<project>.json, replacing an earlier import of the same project.
func (s *Store) ImportVertex(data []byte, location string) (VertexResult, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return VertexResult{}, errs.New(errs.Invalid, "file required")
	}
	if len(data) > MaxFileSize {
		return VertexResult{}, errs.New(errs.Invalid, "file too large: at most %d bytes", MaxFileSize)
	}
	location = strings.TrimSpace(location)
	if location == "" {
		location = DefaultVertexLocation
	}
	if !locationRe.MatchString(location) {
		return VertexResult{}, errs.New(errs.Invalid, "invalid location")
	}
	var sa map[string]any
	if err := json.Unmarshal(data, &sa); err != nil || sa == nil {
		return VertexResult{}, errs.New(errs.Invalid, "invalid json")
	}
	if t, _ := sa["type"].(string); t != "service_account" {
		return VertexResult{}, invalidSA(`type must be "service_account"`)
	}
	raw, _ := sa["private_key"].(string)
	if strings.TrimSpace(raw) == "" {
		return VertexResult{}, invalidSA("service account missing private_key")
	}
	key, err := normalisePrivateKey(raw)
	if err != nil {
		return VertexResult{}, invalidSA(err.Error())
	}
	sa["private_key"] = key
	project, _ := sa["project_id"].(string)
	project = strings.TrimSpace(project)
	if project == "" {
		return VertexResult{}, errs.New(errs.Invalid, "project_id missing")
	}
	email, _ := sa["client_email"].(string)
	if strings.TrimSpace(email) == "" {
		return VertexResult{}, invalidSA("service account missing client_email")
	}
	out := struct {
		ServiceAccount map[string]any `json:"service_account"`
		ProjectID      string         `json:"project_id"`
		Email          string         `json:"email"`
		Location       string         `json:"location"`
		Type           string         `json:"type"`
	}{sa, project, email, location, "vertex"}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return VertexResult{}, errs.Wrap(errs.Internal, err, "failed to encode credential")
	}
	name := "vertex-" + safeNamePart(project) + ".json"
	if err := s.Write(name, append(b, '\n')); err != nil {
		return VertexResult{}, err
	}
	return VertexResult{File: name, ProjectID: project, Email: email, Location: location}, nil
}

// normalisePrivateKey cleans what copy and paste do to a PEM key (CRLF,
// terminal colour codes, broken line wrapping) and returns it as PKCS#1.
// The messages never quote the key.
func normalisePrivateKey(raw string) (string, error) {
	k := strings.ReplaceAll(raw, "\r\n", "\n")
	k = ansiEscape.ReplaceAllString(k, "")
	k = strings.ToValidUTF8(k, "")
	k = strings.TrimSpace(k)
	block, _ := pem.Decode([]byte(k))
	if block == nil {
		m := pemMarkers.FindStringSubmatch(k)
		if m == nil {
			return "", errs.New(errs.Invalid, "private_key is not valid pem: missing pem markers")
		}
		body := nonBase64.ReplaceAllString(m[2], "")
		rebuilt := "-----BEGIN " + m[1] + "-----\n" + body + "\n-----END " + m[3] + "-----\n"
		if block, _ = pem.Decode([]byte(rebuilt)); block == nil {
			return "", errs.New(errs.Invalid, "private_key is not valid pem")
		}
	}
	var rk *rsa.PrivateKey
	if k1, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		rk = k1
	} else if k8, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		r, ok := k8.(*rsa.PrivateKey)
		if !ok {
			return "", errs.New(errs.Invalid, "private_key is not an RSA key")
		}
		rk = r
	} else {
		return "", errs.New(errs.Invalid, "private_key does not parse")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})), nil
}

// safeNamePart makes an identifier usable inside a file name.
func safeNamePart(s string) string {
	s = strings.NewReplacer("/", "_", `\`, "_", ":", "_", " ", "-").Replace(strings.TrimSpace(s))
	s = unsafeChars.ReplaceAllString(s, "_")
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", ".")
	}
	s = strings.TrimLeft(s, ".")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		s = "x"
	}
	return s
}

// SafeNamePart is safeNamePart for other packages that name auth files
// after an account (the OAuth logins).
func SafeNamePart(s string) string { return safeNamePart(s) }

// SaveGeminiWeb validates two Gemini web cookies and saves them as
// gemini-web-<hash>.json. The hash is of __Secure-1PSID alone, so saving
// the same session again (with a fresher 1PSIDTS) replaces its file.
func (s *Store) SaveGeminiWeb(psid, psidts string) (string, error) {
	psid, psidts = strings.TrimSpace(psid), strings.TrimSpace(psidts)
	if err := checkCookie("secure_1psid", psid); err != nil {
		return "", err
	}
	if err := checkCookie("secure_1psidts", psidts); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(psid))
	name := "gemini-web-" + hex.EncodeToString(sum[:8]) + ".json"
	b, err := json.MarshalIndent(map[string]string{
		"secure_1psid": psid, "secure_1psidts": psidts, "type": "gemini-web",
	}, "", "  ")
	if err != nil {
		return "", errs.Wrap(errs.Internal, err, "failed to encode credential")
	}
	if err := s.Write(name, append(b, '\n')); err != nil {
		return "", err
	}
	return name, nil
}

// checkCookie accepts a cookie value as browsers send it: printable ASCII
// without spaces, quotes, commas, semicolons or backslashes. The value is
// never echoed.
func checkCookie(field, v string) error {
	if v == "" {
		return errs.New(errs.Invalid, "%s is required", field)
	}
	if len(v) > 4096 || !utf8.ValidString(v) {
		return errs.New(errs.Invalid, "%s is not a valid cookie value", field)
	}
	for _, r := range v {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`";,\`, r) {
			return errs.New(errs.Invalid, "%s is not a valid cookie value", field)
		}
	}
	return nil
}
