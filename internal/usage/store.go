package usage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/clientkeys"
)

// Store keeps usage statistics: the embedded SQLite store, or the
// PostgreSQL store several instances share (pgstore.go). Both run the same
// SQL (sqlCore), written to be portable between the two.
//
// Append is only ever called by the Service's single writer goroutine;
// Import may run concurrently with it and the store serialises them.
type Store interface {
	// Append adds a batch of recorded events in one transaction.
	Append(ctx context.Context, events []Event) error
	// AppendWithSpend is Append plus the client-key spend changes
	// collected since the last write (resets, then additions), in the
	// same transaction; either may be empty.
	AppendWithSpend(ctx context.Context, events []Event, spend *SpendBatch) error
	// ReadSpend reads the spend of every client key's latest day and
	// month window.
	ReadSpend(ctx context.Context) ([]SpendRow, error)
	// Report reads the statistics in q's range from the aggregates (and the
	// newest details per model), never from all details.
	Report(ctx context.Context, q Query) (*Report, error)
	// Series reads figures over time per model, client key or credential
	// from the hourly aggregates (series.go); a bad query is errs.Invalid.
	Series(ctx context.Context, q SeriesQuery) (*SeriesReport, error)
	// Export writes every retained detail and the complete aggregates as
	// JSON (see api/openapi.yaml, UsageExport), streaming.
	Export(ctx context.Context, w io.Writer, now time.Time) error
	// Import merges an export of this server or the reference, all or
	// nothing. Raw keys are turned into ids with keys. Details of our own
	// export older than keep.MaxAge are not stored (the aggregates hold
	// them; the retention would prune them at once); zero keeps them all.
	Import(ctx context.Context, r io.Reader, keys KeyResolver, now time.Time, keep Retention) (ImportResult, error)
	// Prune drops details outside the retention window; aggregates stay.
	Prune(ctx context.Context, r Retention, now time.Time) (int64, error)
	Close() error
}

// Retention bounds the per-request details kept.
type Retention struct {
	MaxCount int
	MaxAge   time.Duration
}

// Default retention when config leaves it unset.
const (
	DefaultDetailsMaxCount = 1_000_000
	DefaultDetailsMaxDays  = 30
	// DefaultDetailsPerModel is how many details GET /usage lists per model
	// unless asked otherwise.
	DefaultDetailsPerModel = 100
)

// Query selects what Report returns.
type Query struct {
	// From and To bound the range (From inclusive, To exclusive); zero
	// means unbounded. Aggregates are hourly, so both are widened to whole
	// hours for them; details are filtered exactly.
	From, To time.Time
	// Details is the number of newest details listed per model.
	Details int
	// Loc is the zone of the by-day and by-hour buckets; nil means Local.
	Loc *time.Location
	// Prices estimate each client key's cost (model-prices); nil: the
	// Service's, from config.
	Prices *clientkeys.Prices
}

// Report is GET /usage's `usage` object.
type Report struct {
	TotalRequests  int64                `json:"total_requests"`
	SuccessCount   int64                `json:"success_count"`
	FailureCount   int64                `json:"failure_count"`
	TotalTokens    int64                `json:"total_tokens"`
	RequestsByDay  map[string]int64     `json:"requests_by_day"`
	RequestsByHour map[string]int64     `json:"requests_by_hour"`
	TokensByDay    map[string]int64     `json:"tokens_by_day"`
	TokensByHour   map[string]int64     `json:"tokens_by_hour"`
	APIs           map[string]*APIStats `json:"apis"`
	Clients        map[string]*KeyStats `json:"clients"`
	Credentials    map[string]*KeyStats `json:"credentials"`

	// prices estimate the clients' costs (nil: none).
	prices *clientkeys.Prices
}

// APIStats is one endpoint's figures.
type APIStats struct {
	TotalRequests int64                  `json:"total_requests"`
	TotalTokens   int64                  `json:"total_tokens"`
	Models        map[string]*ModelStats `json:"models"`
}

// ModelStats is one model's figures under one endpoint.
type ModelStats struct {
	TotalRequests int64    `json:"total_requests"`
	TotalTokens   int64    `json:"total_tokens"`
	Details       []Detail `json:"details"`
}

// Detail is one request as kept in the detail window, in the reference's
// shape plus a few fields the reference ignores.
type Detail struct {
	Timestamp time.Time `json:"timestamp"`
	// Source is the credential's masked label, AuthIndex its id.
	Source    string `json:"source"`
	AuthIndex string `json:"auth_index"`
	Tokens    Tokens `json:"tokens"`
	Failed    bool   `json:"failed"`
	RequestID string `json:"request_id,omitempty"`
	ClientKey string `json:"client_key,omitempty"`
	Status    int    `json:"status,omitempty"`
	LatencyMS int64  `json:"latency_ms,omitempty"`
}

// KeyStats is one client key's or credential's figures.
type KeyStats struct {
	Label         string `json:"label"`
	Provider      string `json:"provider,omitempty"`
	TotalRequests int64  `json:"total_requests"`
	SuccessCount  int64  `json:"success_count"`
	FailureCount  int64  `json:"failure_count"`
	Tokens
	// CostUSD is the estimated cost of a client key's requests of models
	// model-prices has a price for (nil when none has one).
	CostUSD *float64 `json:"cost_usd,omitempty"`

	cost   clientkeys.NanoUSD
	priced bool
}

// ImportResult is POST /usage/import's answer.
type ImportResult struct {
	Added          int64 `json:"added"`
	Skipped        int64 `json:"skipped"`
	TotalRequests  int64 `json:"total_requests"`
	FailedRequests int64 `json:"failed_requests"`
}

// KeyResolver turns a raw key found in a reference export into the id and
// masked label this server uses for it. It must never return the key.
type KeyResolver interface {
	Credential(raw string) (id, label string)
	ClientKey(raw string) (id, label string)
}

// counts are the additive figures of one aggregate bucket.
type counts struct {
	requests, failures, latencyMS int64
	tok                           Tokens
}

func (c *counts) add(o counts) {
	c.requests += o.requests
	c.failures += o.failures
	c.latencyMS += o.latencyMS
	c.tok.Input += o.tok.Input
	c.tok.Output += o.tok.Output
	c.tok.Reasoning += o.tok.Reasoning
	c.tok.Cached += o.tok.Cached
	c.tok.Total += o.tok.Total
}

// reqKey is a bucket of the request aggregates.
type reqKey struct {
	hour                    int64
	endpoint, model, client string
}

// attKey is a bucket of the per-credential attempt aggregates.
type attKey struct {
	hour              int64
	credential, model string
}

func hourOf(t time.Time) int64 {
	s := t.Unix()
	return s - mod(s, 3600)
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// dedupeKey identifies a detail for de-duplication on import, from the
// fields the reference uses (api, model, timestamp, source, auth_index,
// failed, tokens) plus the client key id.
func dedupeKey(endpoint, model string, ts time.Time, source, cred, client string, failed bool, t Tokens) string {
	// The bytes hashed must never change (stored keys de-duplicate later
	// imports); they are built in one buffer, without a hash.Hash per field.
	var arr [256]byte
	buf := arr[:0]
	for i, s := range [...]string{endpoint, model, "", source, cred, client, strconv.FormatBool(failed)} {
		if i == 2 {
			buf = ts.UTC().AppendFormat(buf, time.RFC3339Nano)
		} else {
			buf = append(buf, s...)
		}
		buf = append(buf, 0)
	}
	for _, n := range [...]int64{t.Input, t.Output, t.Reasoning, t.Cached, t.Total} {
		buf = strconv.AppendInt(buf, n, 10)
		buf = append(buf, 0)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}
