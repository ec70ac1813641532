package usage

// Tokens are the token counts of one request, in the meaning
// protocol.Tokens gives them (the proxy reads them with the one extractor
// per protocol there: usage parses no answers). Total is the upstream's
// own total or Input + Output; Normalize derives it for imported records
// that carry none.
type Tokens struct {
	Input     int64 `json:"input_tokens"`
	Output    int64 `json:"output_tokens"`
	Reasoning int64 `json:"reasoning_tokens"`
	Cached    int64 `json:"cached_tokens"`
	Total     int64 `json:"total_tokens"`
}

// Normalize fills a missing total the way the reference does: input +
// output + reasoning, and if that is still zero, cached as well. Negative
// counts (a broken upstream or import) become zero, so that no aggregate
// can go down.
func (t Tokens) Normalize() Tokens {
	for _, p := range []*int64{&t.Input, &t.Output, &t.Reasoning, &t.Cached, &t.Total} {
		if *p < 0 {
			*p = 0
		}
	}
	if t.Total == 0 {
		t.Total = t.Input + t.Output + t.Reasoning
		if t.Total == 0 {
			t.Total = t.Cached
		}
	}
	return t
}

// IsZero reports whether no count is set.
func (t Tokens) IsZero() bool { return t == Tokens{} }
