package mgmtauth

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestHashSecret(t *testing.T) {
	h, err := HashSecret(testKey)
	if err != nil {
		t.Fatalf("HashSecret: %v", err)
	}
	if !LooksHashed(h) {
		t.Fatalf("HashSecret output %q does not look hashed", h)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != bcrypt.DefaultCost {
		t.Fatalf("cost = %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(h), []byte(testKey)); err != nil {
		t.Fatalf("hash does not verify: %v", err)
	}

	t.Run("errors", func(t *testing.T) {
		if _, err := HashSecret(""); err == nil {
			t.Error("empty secret hashed")
		}
		_, err := HashSecret(strings.Repeat("a", 73))
		if !errors.Is(err, bcrypt.ErrPasswordTooLong) {
			t.Errorf("73-byte secret: err = %v, want wrapped ErrPasswordTooLong", err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "hash secret: ") {
			t.Errorf("error %q not wrapped with context", err)
		}
	})
}

func TestLooksHashed(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"$2a$10$abcdefghijklmnopqrstuv", true},
		{"$2b$12$x", true},
		{"$2y$04$x", true},
		{"$2a$", false},
		{"$2x$10$abc", false},
		{"$1$abc", false},
		{"", false},
		{"plaintext", false},
		{" $2a$10$abc", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := LooksHashed(tc.in); got != tc.want {
				t.Fatalf("LooksHashed(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
