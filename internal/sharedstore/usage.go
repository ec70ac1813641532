package sharedstore

import (
	"database/sql"

	"github.com/jackc/pgx/v5/stdlib"
)

// usageSchema is migration 20: the usage statistics and the client-key
// spend of every instance (internal/usage reads and writes them through
// its PostgreSQL store). The tables are those of the embedded SQLite
// store at its schema 4, column for column, so that one set of statements
// serves both; a later change to either is a new migration here too.
const usageSchema = `
CREATE TABLE usage_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE usage_labels (id TEXT PRIMARY KEY, label TEXT NOT NULL);

CREATE TABLE usage_requests (
	hour BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (hour, endpoint, model, client_key));
CREATE TABLE usage_requests_daily (
	day BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (day, endpoint, model, client_key));
CREATE TABLE usage_requests_total (
	endpoint TEXT NOT NULL, model TEXT NOT NULL, client_key TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (endpoint, model, client_key));

CREATE TABLE usage_attempts (
	hour BIGINT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (hour, credential, model));
CREATE TABLE usage_attempts_daily (
	day BIGINT NOT NULL, credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (day, credential, model));
CREATE TABLE usage_attempts_total (
	credential TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (credential, model));

CREATE TABLE usage_day_hours (day BIGINT NOT NULL PRIMARY KEY,
	requests_00 BIGINT NOT NULL, requests_01 BIGINT NOT NULL, requests_02 BIGINT NOT NULL, requests_03 BIGINT NOT NULL, requests_04 BIGINT NOT NULL, requests_05 BIGINT NOT NULL,
	requests_06 BIGINT NOT NULL, requests_07 BIGINT NOT NULL, requests_08 BIGINT NOT NULL, requests_09 BIGINT NOT NULL, requests_10 BIGINT NOT NULL, requests_11 BIGINT NOT NULL,
	requests_12 BIGINT NOT NULL, requests_13 BIGINT NOT NULL, requests_14 BIGINT NOT NULL, requests_15 BIGINT NOT NULL, requests_16 BIGINT NOT NULL, requests_17 BIGINT NOT NULL,
	requests_18 BIGINT NOT NULL, requests_19 BIGINT NOT NULL, requests_20 BIGINT NOT NULL, requests_21 BIGINT NOT NULL, requests_22 BIGINT NOT NULL, requests_23 BIGINT NOT NULL,
	tokens_00 BIGINT NOT NULL, tokens_01 BIGINT NOT NULL, tokens_02 BIGINT NOT NULL, tokens_03 BIGINT NOT NULL, tokens_04 BIGINT NOT NULL, tokens_05 BIGINT NOT NULL,
	tokens_06 BIGINT NOT NULL, tokens_07 BIGINT NOT NULL, tokens_08 BIGINT NOT NULL, tokens_09 BIGINT NOT NULL, tokens_10 BIGINT NOT NULL, tokens_11 BIGINT NOT NULL,
	tokens_12 BIGINT NOT NULL, tokens_13 BIGINT NOT NULL, tokens_14 BIGINT NOT NULL, tokens_15 BIGINT NOT NULL, tokens_16 BIGINT NOT NULL, tokens_17 BIGINT NOT NULL,
	tokens_18 BIGINT NOT NULL, tokens_19 BIGINT NOT NULL, tokens_20 BIGINT NOT NULL, tokens_21 BIGINT NOT NULL, tokens_22 BIGINT NOT NULL, tokens_23 BIGINT NOT NULL);

CREATE TABLE usage_details (
	dedupe_key TEXT NOT NULL, ts BIGINT NOT NULL, request_id TEXT NOT NULL, endpoint TEXT NOT NULL,
	model TEXT NOT NULL, client_key TEXT NOT NULL, credential TEXT NOT NULL, source TEXT NOT NULL,
	status INTEGER NOT NULL, failed INTEGER NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	UNIQUE (ts, dedupe_key));
CREATE INDEX usage_details_model ON usage_details (endpoint, model, ts);

CREATE TABLE usage_import_ledger (
	origin TEXT NOT NULL, kind TEXT NOT NULL, bucket TEXT NOT NULL,
	requests BIGINT NOT NULL, failures BIGINT NOT NULL, latency_ms BIGINT NOT NULL,
	input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, reasoning_tokens BIGINT NOT NULL,
	cached_tokens BIGINT NOT NULL, total_tokens BIGINT NOT NULL,
	PRIMARY KEY (origin, kind, bucket));

CREATE TABLE client_key_spend (
	name TEXT NOT NULL, span TEXT NOT NULL, window_start BIGINT NOT NULL,
	requests BIGINT NOT NULL, tokens BIGINT NOT NULL, cost_nano_usd BIGINT NOT NULL, reset_at BIGINT NOT NULL,
	PRIMARY KEY (name, span));
`

// UsageMaxConns bounds the usage store's own connections: its one writer
// (the usage writer goroutine's batches), readers of GET /usage and the
// export, and the client-key spend read back after every flush. They are
// a pool of their own so that a long export or import never takes a
// connection the config document or the auth files need.
const UsageMaxConns = 4

// UsageDB opens a database/sql handle for the usage store on connections
// of its own (at most UsageMaxConns, opened lazily) with this store's
// connection settings. The caller closes it. Like the pool, it connects
// only once the store has checked the schema (OpenOffline).
func (s *Store) UsageDB() *sql.DB {
	db := stdlib.OpenDB(*s.pool.Config().ConnConfig.Copy(), stdlib.OptionBeforeConnect(s.gate.check))
	db.SetMaxOpenConns(UsageMaxConns)
	db.SetMaxIdleConns(UsageMaxConns)
	return db
}
