package translate

import (
	"sync"

	"github.com/tiktoken-go/tokenizer"
)

// o200k is OpenAI's o200k_base BPE vocabulary, embedded in the binary by
// tiktoken-go/tokenizer (nothing is downloaded), loaded on first use.
// Claude and Gemini tokenize differently, so a count stays an estimate.
var o200k = sync.OnceValue(func() tokenizer.Codec {
	c, err := tokenizer.Get(tokenizer.O200kBase)
	if err != nil {
		return nil
	}
	return c
})

// tokenCount counts s with the embedded vocabulary, or with the heuristic
// if it cannot be used.
func tokenCount(s string) int {
	if c := o200k(); c != nil {
		if n, err := c.Count(s); err == nil {
			return n
		}
	}
	return heuristicCount(s)
}
