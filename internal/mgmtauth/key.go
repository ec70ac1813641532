package mgmtauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	// keyCacheSize bounds the verified-key cache. Normally one entry is
	// used; a few more cover keys that differ only past bcrypt's 72-byte
	// limit, without letting the cache grow.
	keyCacheSize = 4

	// maxKeyLen rejects absurd keys before hashing them. bcrypt reads at
	// most 72 bytes, so this is generous; Update warns if the env secret
	// exceeds it.
	maxKeyLen = 1024

	// dummyBcryptHash is a DefaultCost hash of a random string nobody
	// knows. Comparing against it when no config hash exists makes a miss
	// take as long as a real comparison.
	dummyBcryptHash = "$2a$10$biFAlPp.dF4e/8ALs7k72exiUZDaaYUjjL3Iqd5jC.STo6vv38baq"
)

// presentedKey extracts the management key from the request.
//
// Authorization: Bearer <key> is preferred. An Authorization header without
// the Bearer scheme is taken whole as the key, for older clients that send the
// bare key. X-Management-Key is read only when Authorization yields nothing,
// so a client cannot present two keys and have the weaker header win.
func presentedKey(r *http.Request) string {
	if auth := strings.TrimSpace(r.Header.Get("Authorization")); auth != "" {
		key := auth
		if i := strings.IndexAny(auth, " \t"); i >= 0 && strings.EqualFold(auth[:i], "Bearer") {
			key = strings.TrimSpace(auth[i+1:])
		} else if strings.EqualFold(auth, "Bearer") {
			key = ""
		}
		if key != "" {
			return key
		}
	}
	return strings.TrimSpace(r.Header.Get("X-Management-Key"))
}

type digest [sha256.Size]byte

// digestKey hashes a key with the guard's random salt. Digests live in memory
// for the life of the settings; salting keeps them from being looked up in a
// precomputed table if memory is ever exposed.
func (g *Guard) digestKey(key string) digest {
	// Hash salt||key from a stack buffer: this runs on every request, and
	// sha256.New would cost two heap allocations. Longer keys spill to the
	// heap, which is fine for keys nobody uses.
	var buf [128]byte
	b := append(buf[:0], g.salt[:]...)
	b = append(b, key...)
	return sha256.Sum256(b)
}

// known checks key against the keys the guard can check cheaply: the env
// secret and the digests bcrypt accepted earlier. known is false when bcrypt
// must decide; ok is then meaningless.
func (g *Guard) known(st *snapshot, key string) (ok, known bool) {
	if len(key) > maxKeyLen {
		return false, true
	}
	d := g.digestKey(key)
	// Digests have a fixed length, so comparing them leaks neither the
	// secret's length nor how many leading bytes matched.
	if st.hasEnv && subtle.ConstantTimeCompare(d[:], st.envDigest[:]) == 1 {
		return true, true
	}
	if st.cache.contains(d) {
		return true, true
	}
	return false, false
}

// verifySlow runs bcrypt on a key known did not decide. The cache is looked
// at once more first: while this request waited for a slot, another one may
// have verified the same key (a panel sends several requests at once after a
// restart).
func (g *Guard) verifySlow(st *snapshot, key string) bool {
	d := g.digestKey(key)
	if st.cache.contains(d) {
		return true
	}
	hash := st.hash
	if hash == nil {
		hash = g.dummyHash
	}
	g.bcryptCalls.Add(1)
	err := g.compare(hash, []byte(key))
	if err != nil || st.hash == nil {
		return false
	}
	st.cache.add(d)
	return true
}

// keyCache holds digests of keys bcrypt accepted under one snapshot. Readers
// are lock-free (copy-on-write slice) because every authenticated request
// reads it; the mutex only serialises the rare writers.
type keyCache struct {
	mu      sync.Mutex
	digests atomic.Pointer[[]digest]
}

// contains compares d against every cached digest in constant time, so the
// timing does not reveal which entry (if any) matched.
func (c *keyCache) contains(d digest) bool {
	p := c.digests.Load()
	if p == nil {
		return false
	}
	match := 0
	for i := range *p {
		match |= subtle.ConstantTimeCompare((*p)[i][:], d[:])
	}
	return match == 1
}

// add remembers d, evicting the oldest entry when full.
func (c *keyCache) add(d digest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.contains(d) {
		return
	}
	var old []digest
	if p := c.digests.Load(); p != nil {
		old = *p
	}
	if len(old) >= keyCacheSize {
		old = old[len(old)-keyCacheSize+1:]
	}
	next := make([]digest, 0, len(old)+1)
	next = append(next, old...)
	next = append(next, d)
	c.digests.Store(&next)
}

// len reports the number of cached digests.
func (c *keyCache) len() int {
	if p := c.digests.Load(); p != nil {
		return len(*p)
	}
	return 0
}
