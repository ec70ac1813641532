package usage

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendJSONMatchesEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "POST /v1/messages", "gpt-4o", "k…1", "a\"b\\c", "<&>", "tab\there", "\x00\x1f", "bad\xffutf8", "ünï", "\u2028"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	num := func() int64 {
		if rng.IntN(3) == 0 {
			return 0
		}
		return rng.Int64N(1<<40) - 10
	}
	for range 2000 {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		k := bucketJSON{Hour: num(), Endpoint: str(), Model: str(), ClientKey: str(), Credential: str(), Provider: str(),
			Requests: num(), Failures: num(), LatencyMS: num(), Tokens: Tokens{num(), num(), num(), num(), num()}}
		if err := enc.Encode(&k); err != nil {
			t.Fatal(err)
		}
		if got := appendBucketJSON(nil, &k); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("bucket:\n got %s\nwant %s", got, want.Bytes())
		}
		want.Reset()
		ts := time.Unix(rng.Int64N(1<<33), rng.Int64N(1e9)*int64(rng.IntN(2))).UTC()
		d := Detail{Timestamp: ts, Source: str(), AuthIndex: str(), Tokens: Tokens{num(), num(), num(), num(), num()},
			Failed: rng.IntN(2) == 0, RequestID: str(), ClientKey: str(), Status: int(num() % 600), LatencyMS: num()}
		if err := enc.Encode(&d); err != nil {
			t.Fatal(err)
		}
		if got := appendDetailJSON(nil, &d); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("detail:\n got %s\nwant %s", got, want.Bytes())
		}
	}
}
