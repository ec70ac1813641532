package mgmtauth

import (
	"context"
	"crypto/subtle"
)

// Identities: which kind of key a request was authenticated with. They
// name the key's role, never the key.
const (
	IdentityConfigKey   = "config-key"   // remote-management.secret-key
	IdentityEnvPassword = "env-password" // MANAGEMENT_PASSWORD
	IdentityNone        = "none"         // not authenticated
)

// AuthInfo is what the guard learnt about a request: its client address
// (after trusted-proxies) and, once the key was accepted, its identity.
// A layer in front of the guard (the audit trail) puts an empty one into
// the request context with WithAuthInfo and reads it after the request,
// whether the guard let it through or not.
type AuthInfo struct {
	Client   string
	Identity string
}

type authInfoKey struct{}

// WithAuthInfo returns ctx carrying a fresh AuthInfo for the guard to fill.
func WithAuthInfo(ctx context.Context) (context.Context, *AuthInfo) {
	a := &AuthInfo{Identity: IdentityNone}
	return context.WithValue(ctx, authInfoKey{}, a), a
}

// AuthInfoFrom returns the AuthInfo ctx carries, or nil.
func AuthInfoFrom(ctx context.Context) *AuthInfo {
	a, _ := ctx.Value(authInfoKey{}).(*AuthInfo)
	return a
}

// identityOf names the kind of an accepted key.
func (g *Guard) identityOf(st *snapshot, key string) string {
	if st.hasEnv && len(key) <= maxKeyLen {
		d := g.digestKey(key)
		if subtle.ConstantTimeCompare(d[:], st.envDigest[:]) == 1 {
			return IdentityEnvPassword
		}
	}
	return IdentityConfigKey
}
