package clientkeys

import (
	"math"
	"strings"

	"github.com/cli-proxy-api/cli-proxy-api/internal/config"
	"github.com/cli-proxy-api/cli-proxy-api/internal/wildcard"
)

// NanoUSD is an amount of money in billionths of a US dollar: costs add up
// as integers, and a token of the cheapest model still costs a whole
// number of them (USD 0.01 per million tokens = 10 nano-USD per token).
type NanoUSD int64

// USD converts to dollars, for display.
func (n NanoUSD) USD() float64 { return float64(n) / 1e9 }

// FromUSD converts dollars (at most config's bound of 1e6) to NanoUSD.
func FromUSD(usd float64) NanoUSD { return NanoUSD(math.Round(usd * 1e9)) }

// price is one model-prices entry in nano-USD per token.
type price struct {
	input, output, cached float64
}

// Prices are the model-prices of one config: an exact name wins, else the
// first wildcard entry that matches.
type Prices struct {
	exact    map[string]*price
	patterns []pricePattern
}

type pricePattern struct {
	pattern wildcard.Pattern
	p       *price
}

// CompilePrices compiles model-prices, for the Index and for a SpendStore
// that prices the spend it reads back (Prices.Cost).
func CompilePrices(list []config.ModelPrice) *Prices {
	ps := &Prices{exact: map[string]*price{}}
	for _, mp := range list {
		// USD per million tokens = 1e3 nano-USD per token.
		p := &price{input: mp.Input * 1e3, output: mp.Output * 1e3, cached: mp.Input * 1e3}
		if mp.CachedInput != nil {
			p.cached = *mp.CachedInput * 1e3
		}
		m := strings.ToLower(mp.Model)
		if !strings.Contains(m, "*") {
			if _, dup := ps.exact[m]; !dup {
				ps.exact[m] = p
			}
			continue
		}
		ps.patterns = append(ps.patterns, pricePattern{pattern: wildcard.Compile(m), p: p})
	}
	return ps
}

// lookup returns the price of model: an exact entry, else the first
// wildcard entry that matches, else nil.
func (ps *Prices) lookup(model string) *price {
	if ps == nil {
		return nil
	}
	model = strings.ToLower(model)
	if p := ps.exact[model]; p != nil {
		return p
	}
	for _, pp := range ps.patterns {
		if pp.pattern.Match(model) {
			return pp.p
		}
	}
	return nil
}

// Tokens are what an upstream reported for one request, in the proxy's one
// meaning (protocol.Tokens): Input includes Cached.
type Tokens struct {
	Input, Output, Cached int64
}

// Count is what token limits and budgets count: input + output (cached
// input included, as providers bill it, at their own price).
func (t Tokens) Count() int64 { return max(t.Input, 0) + max(t.Output, 0) }

// cost prices t; a nil price costs nothing.
func (p *price) cost(t Tokens) NanoUSD {
	if p == nil {
		return 0
	}
	cached := min(max(t.Cached, 0), max(t.Input, 0))
	fresh := max(t.Input, 0) - cached
	c := float64(fresh)*p.input + float64(cached)*p.cached + float64(max(t.Output, 0))*p.output
	return NanoUSD(math.Ceil(c))
}

// Cost is the estimated cost of t for model under these prices, and
// whether the model has a price.
func (ps *Prices) Cost(model string, t Tokens) (NanoUSD, bool) {
	p := ps.lookup(model)
	return p.cost(t), p != nil
}
