package clientkeys

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// KeyPrefix starts every generated key, so that a leaked one is easy to
// recognise (secret scanners, logs).
const KeyPrefix = "sk-cpa-"

// NewKey generates a client key (256 random bits) and returns it with the
// hex SHA-256 digest config.yaml keeps instead of it. The key itself is
// for the one answer that shows it.
func NewKey() (key, digestHex string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	d := sha256.Sum256([]byte(key))
	return key, hex.EncodeToString(d[:])
}
