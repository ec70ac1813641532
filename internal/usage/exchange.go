package usage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cli-proxy-api/cli-proxy-api/internal/errs"
)

// bucketJSON is one hourly aggregate in an export's `aggregates`.
type bucketJSON struct {
	Hour       int64  `json:"hour"`
	Endpoint   string `json:"endpoint,omitempty"`
	Model      string `json:"model"`
	ClientKey  string `json:"client_key,omitempty"`
	Credential string `json:"credential,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Requests   int64  `json:"requests"`
	Failures   int64  `json:"failures"`
	LatencyMS  int64  `json:"latency_ms,omitempty"`
	Tokens     Tokens `json:"tokens"`
}

// Export streams the export document. Everything is read in one read
// transaction, so the document is a consistent snapshot however long the
// client takes to read it; memory stays flat because rows go straight to w.
func (s *sqlCore) Export(ctx context.Context, out io.Writer, now time.Time) error {
	origin, err := s.origin(ctx)
	if err != nil {
		return err
	}
	tx, err := s.begin(ctx, s.r)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The report gives the reference-shaped totals and buckets (no
	// details: those are streamed below).
	rep, err := reportTx(ctx, tx, s, Query{Loc: time.UTC})
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 64<<10)
	enc := json.NewEncoder(w)
	put := func(v any) error { return enc.Encode(v) } // Encode's newline is valid JSON whitespace
	// Buckets and details, a million of them, are written by hand: the
	// same bytes as the encoder, without its reflection.
	buf := make([]byte, 0, 512)
	fmt.Fprintf(w, `{"version":1,"exported_at":%q,"aggregates":{"instance":%q,"labels":`, now.UTC().Format(time.RFC3339Nano), origin)
	labels, err := readLabels(ctx, tx)
	if err != nil {
		return err
	}
	if err := put(labels); err != nil {
		return err
	}
	for _, part := range []struct{ name, query string }{
		{"requests", `SELECT hour, endpoint, model, client_key, '', '', requests, failures, latency_ms, input_tokens, output_tokens,
			reasoning_tokens, cached_tokens, total_tokens FROM usage_requests ORDER BY hour, endpoint, model, client_key`},
		{"attempts", `SELECT hour, '', model, '', credential, provider, requests, failures, latency_ms, input_tokens, output_tokens,
			reasoning_tokens, cached_tokens, total_tokens FROM usage_attempts ORDER BY hour, credential, model`},
	} {
		fmt.Fprintf(w, `,%q:[`, part.name)
		rows, err := tx.QueryContext(ctx, part.query)
		if err != nil {
			return err
		}
		first := true
		for rows.Next() {
			var b bucketJSON
			if err := rows.Scan(&b.Hour, &b.Endpoint, &b.Model, &b.ClientKey, &b.Credential, &b.Provider, &b.Requests, &b.Failures,
				&b.LatencyMS, &b.Tokens.Input, &b.Tokens.Output, &b.Tokens.Reasoning, &b.Tokens.Cached, &b.Tokens.Total); err != nil {
				rows.Close()
				return err
			}
			if !first {
				w.WriteByte(',')
			}
			first = false
			buf = appendBucketJSON(buf[:0], &b)
			if _, err := w.Write(buf); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		w.WriteByte(']')
	}
	fmt.Fprintf(w, `},"usage":{"total_requests":%d,"success_count":%d,"failure_count":%d,"total_tokens":%d,"requests_by_day":`,
		rep.TotalRequests, rep.SuccessCount, rep.FailureCount, rep.TotalTokens)
	for i, m := range []map[string]int64{rep.RequestsByDay, rep.RequestsByHour, rep.TokensByDay, rep.TokensByHour} {
		if i > 0 {
			fmt.Fprintf(w, `,%q:`, []string{"", "requests_by_hour", "tokens_by_day", "tokens_by_hour"}[i])
		}
		if err := put(m); err != nil {
			return err
		}
	}
	w.WriteString(`,"apis":{`)
	// Every endpoint and model of the aggregates, each with its retained
	// details, streamed in (endpoint, model, ts) order from the index.
	rows, err := tx.QueryContext(ctx, `SELECT `+detailCols+` FROM usage_details ORDER BY endpoint, model, ts`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var curEP, curModel string
	inAPI, inModel, firstDetail := false, false, false
	closeModel := func() {
		if inModel {
			w.WriteString("]}")
			inModel = false
		}
	}
	closeAPI := func() {
		closeModel()
		if inAPI {
			w.WriteString("}}")
			inAPI = false
		}
	}
	written := map[string]map[string]bool{}
	openAPI := func(ep string, first bool) {
		if !first {
			w.WriteByte(',')
		}
		a := rep.APIs[ep]
		if a == nil {
			a = &APIStats{}
		}
		fmt.Fprintf(w, `%s:{"total_requests":%d,"total_tokens":%d,"models":{`, jsonString(ep), a.TotalRequests, a.TotalTokens)
		inAPI = true
		written[ep] = map[string]bool{}
	}
	openModel := func(ep, model string, first bool) {
		if !first {
			w.WriteByte(',')
		}
		var m ModelStats
		if a := rep.APIs[ep]; a != nil && a.Models[model] != nil {
			m = *a.Models[model]
		}
		fmt.Fprintf(w, `%s:{"total_requests":%d,"total_tokens":%d,"details":[`, jsonString(model), m.TotalRequests, m.TotalTokens)
		inModel = true
		written[ep][model] = true
	}
	firstAPI := true
	firstModel := true
	for rows.Next() {
		d, err := scanDetail(rows)
		if err != nil {
			return err
		}
		if !inAPI || d.endpoint != curEP {
			closeAPI()
			openAPI(d.endpoint, firstAPI)
			firstAPI = false
			firstModel = true
			curEP = d.endpoint
			curModel = "\x00"
		}
		if d.model != curModel {
			closeModel()
			openModel(d.endpoint, d.model, firstModel)
			firstModel = false
			firstDetail = true
			curModel = d.model
		}
		if !firstDetail {
			w.WriteByte(',')
		}
		firstDetail = false
		pd := d.public()
		buf = appendDetailJSON(buf[:0], &pd)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	closeAPI()
	// Endpoints and models with aggregates but no retained details.
	for ep, a := range rep.APIs {
		if written[ep] == nil {
			openAPI(ep, firstAPI)
			firstAPI = false
			w.WriteString("}}")
			inAPI = false
			written[ep] = map[string]bool{}
			_ = a
		}
	}
	w.WriteString("}}}\n")
	return w.Flush()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// reportTx is Report on an open read transaction.
func reportTx(ctx context.Context, tx *sqlTx, s *sqlCore, q Query) (*Report, error) {
	return s.reportIn(ctx, tx, q)
}

// bucketKey names an aggregate bucket in the import ledger: the hour and
// the key's parts, NUL-separated in SQLite. PostgreSQL text cannot hold
// NUL, so there each part is quoted instead (as unambiguous, and a
// PostgreSQL ledger has never held the other form).
func (im *importer) bucketKey(hour int64, parts ...string) string {
	key := strconv.FormatInt(hour, 10)
	for _, p := range parts {
		if im.tx.pg {
			key += " " + strconv.Quote(p)
		} else {
			key += "\x00" + p
		}
	}
	return key
}

var endpointName = regexp.MustCompile(`^[A-Z]+ /\S*$`)

// importer holds the state of one import while the body streams in.
// Nothing grows with the body: details go to the store in multi-row
// statements, the aggregates of new details are staged every few thousand
// buckets, and the aggregate buckets of our own exports are staged in a
// temporary table and de-duplicated against the ledger in one set-based
// pass at the end.
type importer struct {
	ctx  context.Context
	tx   *sqlTx
	dec  *json.Decoder
	keys KeyResolver
	now  time.Time
	self string

	details   *rowWriter  // usage_details, RETURNING the keys added
	pending   []detailRow // the details queued in details
	addedKeys map[string]int
	// refill inserts the details of an export that carries aggregates
	// (ours): they only refill the detail window, so which were new need
	// not be known.
	refill *rowWriter
	// refillFrom: details before it are not refilled (zero: all are).
	refillFrom time.Time
	buckets    *rowWriter // usage_stage_import_raw

	version    int64
	hasAgg     bool
	fromDetail *batch // aggregates of newly added details (reference exports), staged as it fills
	labels     map[string]string

	detailsAdded, detailsSkipped int64
	aggSkipped                   int64 // buckets of our own instance
	origin                       string
}

// refillFrom is the oldest detail time the retention keeps at now.
func refillFrom(keep Retention, now time.Time) time.Time {
	if keep.MaxAge <= 0 {
		return time.Time{}
	}
	return now.Add(-keep.MaxAge)
}

// flushBatchAt is how many buckets the aggregates of new details gather
// before they are staged.
const flushBatchAt = 8192

func invalid(format string, args ...any) error {
	return errs.New(errs.Invalid, "invalid usage export: "+format, args...)
}

// Import merges one export in one write transaction: any error rolls all
// of it back.
func (s *sqlCore) Import(ctx context.Context, r io.Reader, keys KeyResolver, now time.Time, keep Retention) (ImportResult, error) {
	origin, err := s.origin(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.begin(ctx, s.w)
	if err != nil {
		return ImportResult{}, err
	}
	// Deferred first, so it runs last: the one writer connection is free
	// again once the transaction has ended.
	if !s.pg {
		defer s.restoreCacheSize()
	}
	defer tx.Rollback()
	// A larger page cache for the import's one transaction: with the
	// default 2 MB, pages of the detail indexes are spilled to the WAL and
	// written again many times (1M details: 33 s → 26 s, peak +13 → +36 MB).
	if !s.pg {
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -8192`); err != nil {
			return ImportResult{}, err
		}
	}
	if err := ensureStage(ctx, tx); err != nil {
		return ImportResult{}, err
	}
	for _, q := range stageImportSchema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return ImportResult{}, err
		}
	}
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	im := &importer{ctx: ctx, tx: tx, dec: dec, keys: keys, now: now, self: origin, refillFrom: refillFrom(keep, now),
		addedKeys: map[string]int{}, fromDetail: newBatch(), labels: map[string]string{}}
	im.details = newDetailWriter(ctx, tx, func(key string) { im.addedKeys[key]++ })
	im.details.afterFlush = im.detailsWritten
	defer im.details.close()
	im.refill = newDetailWriter(ctx, tx, nil)
	defer im.refill.close()
	im.buckets = newRowWriter(ctx, tx, stageImportInsertFor(s.pg), stageImportWidth, "")
	defer im.buckets.close()
	if err := im.document(); err != nil {
		return ImportResult{}, err
	}
	if im.version != 0 && im.version != 1 {
		return ImportResult{}, errs.New(errs.Invalid, "unsupported version")
	}
	if err := im.details.flush(); err != nil {
		return ImportResult{}, err
	}
	if err := im.refill.flush(); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	if im.hasAgg {
		// Our export: the aggregates are complete, the details only refill
		// the detail window; what the details staged is dropped.
		if err := im.buckets.flush(); err != nil {
			return ImportResult{}, err
		}
		added, offered, err := stageImportDeltas(ctx, tx, im.origin)
		if err != nil {
			return ImportResult{}, err
		}
		res.Added, res.Skipped = added, im.aggSkipped+offered-added
	} else {
		if err := im.fromDetail.stage(ctx, tx); err != nil {
			return ImportResult{}, err
		}
		res.Added, res.Skipped = im.detailsAdded, im.detailsSkipped
	}
	if err := applyStage(ctx, tx); err != nil {
		return ImportResult{}, err
	}
	lb := newBatch()
	for id, l := range im.labels {
		lb.label(id, l)
	}
	if err := lb.writeLabels(ctx, tx); err != nil {
		return ImportResult{}, err
	}
	if res.TotalRequests, res.FailedRequests, err = totals(ctx, tx); err != nil {
		return ImportResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// stageImportSchema holds the aggregate buckets of an export of another
// instance: as read (raw, no index: one export may repeat a bucket), then
// one row per ledger bucket with the largest figures read
// (stageImportDeltas). Temporary tables live in the temporary file, not in
// memory: an export's buckets are about half as many as its details.
var stageImportSchema = []string{
	`CREATE TEMP TABLE IF NOT EXISTS usage_stage_import_raw (
	kind TEXT NOT NULL, bucket TEXT NOT NULL, hour BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
	client_key TEXT NOT NULL, credential TEXT NOT NULL, provider TEXT NOT NULL, ` + countDefs + `)`,
	`CREATE TEMP TABLE IF NOT EXISTS usage_stage_import (
	kind TEXT NOT NULL, bucket TEXT NOT NULL, hour BIGINT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
	client_key TEXT NOT NULL, credential TEXT NOT NULL, provider TEXT NOT NULL, ` + countDefs + `,
	PRIMARY KEY (kind, bucket))`,
}

const stageImportWidth = 16

// stageImportInsert appends buckets as read. OR IGNORE: the statement can
// then never stop half-way, so it needs no statement journal (no value is
// ever NULL, so nothing is ignored).
var stageImportInsert = `INSERT OR IGNORE INTO usage_stage_import_raw (kind, bucket, hour, endpoint, model, client_key, credential, provider, ` +
	strings.Join(countNames, ", ") + `) VALUES `

// stageImportInsertFor is stageImportInsert for the store's database:
// PostgreSQL has no OR IGNORE (nor a statement journal to avoid).
func stageImportInsertFor(pg bool) string {
	if pg {
		return strings.Replace(stageImportInsert, "INSERT OR IGNORE INTO", "INSERT INTO", 1)
	}
	return stageImportInsert
}

// stageImportMerge keeps one row per bucket with the largest of each
// figure read for it (and the largest provider name), in key order.
var stageImportMerge = `INSERT INTO usage_stage_import (kind, bucket, hour, endpoint, model, client_key, credential, provider, ` +
	strings.Join(countNames, ", ") + `)
	SELECT kind, bucket, MAX(hour), MAX(endpoint), MAX(model), MAX(client_key), MAX(credential), MAX(provider), ` +
	joinMap(countNames, func(n string) string { return "MAX(" + n + ")" }, ", ") + `
	FROM usage_stage_import_raw GROUP BY kind, bucket ORDER BY kind, bucket`

// stageImportDeltas de-duplicates the staged buckets against the ledger:
// only the growth over the largest figures merged before from the same
// origin is staged for applyStage, and the ledger keeps the new largest
// figures. Importing the same export twice adds nothing; a newer export of
// the same server adds only what is new. It returns the requests added and
// the requests the buckets held.
func stageImportDeltas(ctx context.Context, tx *sqlTx, origin string) (added, offered int64, err error) {
	old := func(n string) string { return "COALESCE(l." + n + ", 0)" }
	delta := joinMap(countNames, func(n string) string {
		return "CASE WHEN b." + n + " > " + old(n) + " THEN b." + n + " - " + old(n) + " ELSE 0 END"
	}, ", ")
	top := joinMap(countNames, func(n string) string {
		return "CASE WHEN b." + n + " > " + old(n) + " THEN b." + n + " ELSE " + old(n) + " END"
	}, ", ")
	grew := "(" + joinMap(countNames, func(n string) string { return "b." + n + " > " + old(n) }, " OR ") + ")"
	join := ` FROM usage_stage_import b LEFT JOIN usage_import_ledger l ON l.origin = ? AND l.kind = b.kind AND l.bucket = b.bucket
		WHERE ` + grew
	cn := strings.Join(countNames, ", ")
	for _, q := range []string{
		stageImportMerge,
		`DELETE FROM usage_stage_import_raw`,
		`DELETE FROM usage_stage_requests`,
		`DELETE FROM usage_stage_attempts`,
		`INSERT INTO usage_stage_requests (hour, endpoint, model, client_key, ` + cn + `)
			SELECT b.hour, b.endpoint, b.model, b.client_key, ` + delta + join + ` AND b.kind = 'requests'`,
		`INSERT INTO usage_stage_attempts (hour, credential, model, provider, ` + cn + `)
			SELECT b.hour, b.credential, b.model, b.provider, ` + delta + join + ` AND b.kind = 'attempts'`,
		`INSERT INTO usage_import_ledger (origin, kind, bucket, ` + cn + `)
			SELECT ?, b.kind, b.bucket, ` + top + join + `
			ON CONFLICT (origin, kind, bucket) DO UPDATE SET ` +
			joinMap(countNames, func(n string) string { return n + " = excluded." + n }, ", "),
	} {
		var args []any
		switch strings.Count(q, "?") {
		case 1:
			args = []any{origin}
		case 2:
			args = []any{origin, origin}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return 0, 0, err
		}
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(requests), 0) FROM usage_stage_requests`).Scan(&added); err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(requests), 0) FROM usage_stage_import WHERE kind = 'requests'`).Scan(&offered); err != nil {
		return 0, 0, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM usage_stage_import`)
	return added, offered, err
}

// The JSON walk. Every reader consumes exactly one value.

func (im *importer) token() (json.Token, error) {
	t, err := im.dec.Token()
	if err != nil {
		if isTooLarge(err) {
			return nil, err
		}
		if errors.Is(err, io.EOF) {
			return nil, invalid("unexpected end of body")
		}
		return nil, invalid("not JSON")
	}
	return t, nil
}

// object reads an object (or null), calling field for each key with the
// decoder positioned at its value.
func (im *importer) object(what string, field func(key string) error) error {
	t, err := im.token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return invalid("%s must be an object", what)
	}
	for im.dec.More() {
		t, err := im.token()
		if err != nil {
			return err
		}
		key, _ := t.(string)
		if err := field(key); err != nil {
			return err
		}
	}
	_, err = im.token()
	return err
}

func (im *importer) array(what string, item func() error) error {
	t, err := im.token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return invalid("%s must be an array", what)
	}
	for im.dec.More() {
		if err := item(); err != nil {
			return err
		}
	}
	_, err = im.token()
	return err
}

// skip consumes one value of any shape without keeping it.
func (im *importer) skip() error {
	depth := 0
	for {
		t, err := im.token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func (im *importer) decode(what string, v any) error {
	if err := im.dec.Decode(v); err != nil {
		if isTooLarge(err) {
			return err
		}
		return invalid("%s has the wrong shape", what)
	}
	return nil
}

func (im *importer) document() error {
	t, err := im.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return invalid("the body must be an object")
	}
	for im.dec.More() {
		t, err := im.token()
		if err != nil {
			return err
		}
		switch t.(string) {
		case "version":
			var n json.RawMessage
			if err := im.decode("version", &n); err != nil {
				return err
			}
			if len(n) == 0 || (n[0] != '-' && (n[0] < '0' || n[0] > '9')) {
				return invalid("version must be a number")
			}
			v, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				return errs.New(errs.Invalid, "unsupported version")
			}
			im.version = v
		case "usage":
			if err := im.object("usage", func(k string) error {
				if k != "apis" {
					return im.skip() // the counters are derived, as in the reference
				}
				return im.object("usage.apis", im.api)
			}); err != nil {
				return err
			}
		case "aggregates":
			im.hasAgg = true
			if err := im.aggregates(); err != nil {
				return err
			}
		default:
			if err := im.skip(); err != nil {
				return err
			}
		}
	}
	if _, err := im.token(); err != nil {
		return err
	}
	if _, err := im.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && isTooLarge(err) {
			return err
		}
		return invalid("trailing data after the document")
	}
	return nil
}

func (im *importer) api(name string) error {
	endpoint, client, clientLabel := name, "", ""
	if !endpointName.MatchString(name) {
		// The reference keys apis by the client's API key when there was
		// one: keep only its id and mask.
		client, clientLabel = im.keys.ClientKey(name)
		endpoint = UnknownModel
	}
	if name == "" {
		return im.skip()
	}
	if clientLabel != "" {
		im.labels[client] = clientLabel
	}
	return im.object("an api", func(k string) error {
		if k != "models" {
			return im.skip()
		}
		return im.object("models", func(model string) error {
			if model == "" {
				model = UnknownModel
			}
			return im.object("a model", func(k string) error {
				if k != "details" {
					return im.skip()
				}
				return im.array("details", func() error { return im.detail(endpoint, model, client) })
			})
		})
	})
}

func (im *importer) detail(endpoint, model, client string) error {
	var d Detail
	if err := im.decode("a detail", &d); err != nil {
		return err
	}
	if d.Timestamp.IsZero() {
		d.Timestamp = im.now
	}
	tok := d.Tokens.Normalize()
	cred, label := d.AuthIndex, d.Source
	switch {
	case isIDLike(d.AuthIndex):
		// Our own export: ids and masked labels already.
	case d.Source != "":
		cred, label = im.keys.Credential(d.Source)
	case d.AuthIndex != "":
		cred, label = "imported:"+d.AuthIndex, d.AuthIndex
	}
	if d.ClientKey != "" {
		if isIDLike(d.ClientKey) {
			client = d.ClientKey
		} else {
			var l string
			client, l = im.keys.ClientKey(d.ClientKey)
			im.labels[client] = l
		}
	}
	if cred != "" && label != "" {
		im.labels[cred] = label
	}
	row := detailRow{ts: d.Timestamp, requestID: d.RequestID, endpoint: endpoint, model: model, client: client, cred: cred,
		source: label, status: d.Status, failed: d.Failed, latencyMS: d.LatencyMS, tok: tok}
	row.key = dedupeKey(row.endpoint, row.model, row.ts, row.source, row.cred, row.client, row.failed, row.tok)
	if im.hasAgg {
		if row.ts.Before(im.refillFrom) {
			return nil // counted by the aggregates; outside the detail window
		}
		return addDetail(im.refill, &row)
	}
	im.pending = append(im.pending, row)
	return addDetail(im.details, &row)
}

// detailsWritten runs after each multi-row insert of details: those whose
// key came back were added, the others were stored already. The aggregates
// of the added ones count unless the export carries aggregates.
func (im *importer) detailsWritten() error {
	for i := range im.pending {
		row := &im.pending[i]
		if im.addedKeys[row.key] == 0 {
			im.detailsSkipped++
			continue
		}
		im.addedKeys[row.key]--
		im.detailsAdded++
		if im.hasAgg {
			continue
		}
		c := counts{requests: 1, latencyMS: row.latencyMS, tok: row.tok}
		if row.failed {
			c.failures = 1
		}
		h := hourOf(row.ts)
		im.fromDetail.addRequest(reqKey{h, row.endpoint, row.model, row.client}, c)
		if row.cred != "" {
			im.fromDetail.addAttempt(attKey{h, row.cred, row.model}, "", c)
		}
	}
	clear(im.pending)
	im.pending = im.pending[:0]
	clear(im.addedKeys)
	if len(im.fromDetail.req)+len(im.fromDetail.att) >= flushBatchAt {
		return im.fromDetail.stage(im.ctx, im.tx)
	}
	return nil
}

func (im *importer) aggregates() error {
	return im.object("aggregates", func(k string) error {
		switch k {
		case "instance":
			if err := im.decode("aggregates.instance", &im.origin); err != nil {
				return err
			}
			if im.origin == "" {
				return invalid("aggregates.instance is empty")
			}
			return nil
		case "labels":
			var m map[string]string
			if err := im.decode("aggregates.labels", &m); err != nil {
				return err
			}
			for id, l := range m {
				im.labels[id] = l
			}
			return nil
		case "requests", "attempts":
			if im.origin == "" {
				return invalid("aggregates.instance must come before the buckets")
			}
			return im.array("aggregates."+k, func() error {
				var b bucketJSON
				if err := im.decode("a bucket", &b); err != nil {
					return err
				}
				return im.bucket(k, &b)
			})
		}
		return im.skip()
	})
}

// bucket merges one aggregate bucket of another instance. The ledger keeps
// the largest figures merged so far per (origin, bucket), and only the
// growth is added: importing the same export twice adds nothing, and a
// newer export of the same server adds only what is new.
func (im *importer) bucket(kind string, b *bucketJSON) error {
	if b.Requests < 0 || b.Failures < 0 || b.Hour%3600 != 0 {
		return invalid("a bucket has impossible figures")
	}
	b.Tokens = b.Tokens.Normalize()
	if b.Model == "" {
		b.Model = UnknownModel
	}
	if im.origin == im.self {
		im.aggSkipped += b.Requests // already counted: these are our own aggregates
		return nil
	}
	var bucket string
	if kind == "requests" {
		bucket = im.bucketKey(b.Hour, b.Endpoint, b.Model, b.ClientKey)
		b.Credential, b.Provider = "", ""
	} else {
		if b.Credential == "" {
			return nil
		}
		bucket = im.bucketKey(b.Hour, b.Credential, b.Model)
		b.Endpoint, b.ClientKey = "", ""
	}
	return im.buckets.add(kind, bucket, b.Hour, b.Endpoint, b.Model, b.ClientKey, b.Credential, b.Provider, b.Requests, b.Failures,
		b.LatencyMS, b.Tokens.Input, b.Tokens.Output, b.Tokens.Reasoning, b.Tokens.Cached, b.Tokens.Total)
}

// isTooLarge reports whether the body ran over its limit, which the HTTP
// layer answers with 413 rather than 400.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
