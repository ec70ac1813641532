package mgmtauth

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// HashSecret returns the bcrypt hash (DefaultCost) of a plaintext management
// key, for storing in config.yaml.
func HashSecret(plain string) (string, error) {
	if plain == "" {
		// An empty secret could never be presented (a missing key is
		// refused before verification), so hashing one is a caller bug.
		return "", errors.New("hash secret: empty secret")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(plain), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	return string(h), nil
}

// LooksHashed reports whether s already looks like a bcrypt hash, so the app
// can tell a plaintext secret in config.yaml (to be hashed and written back)
// from one it hashed earlier.
func LooksHashed(s string) bool {
	if len(s) <= 4 {
		return false
	}
	return strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")
}
