package usage

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
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

func (b *bucketJSON) counts() counts {
	return counts{requests: b.Requests, failures: b.Failures, latencyMS: b.LatencyMS, tok: b.Tokens}
}

// Export streams the export document. Everything is read in one read
// transaction, so the document is a consistent snapshot however long the
// client takes to read it; memory stays flat because rows go straight to w.
func (s *SQLiteStore) Export(ctx context.Context, out io.Writer, now time.Time) error {
	tx, err := s.r.BeginTx(ctx, nil)
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
	fmt.Fprintf(w, `{"version":1,"exported_at":%q,"aggregates":{"instance":%q,"labels":`, now.UTC().Format(time.RFC3339Nano), s.instance)
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
			if err := put(&b); err != nil {
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
		if err := put(&pd); err != nil {
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
func reportTx(ctx context.Context, tx *sql.Tx, s *SQLiteStore, q Query) (*Report, error) {
	return s.reportIn(ctx, tx, q)
}

var endpointName = regexp.MustCompile(`^[A-Z]+ /\S*$`)

// importer holds the state of one import while the body streams in.
type importer struct {
	ctx  context.Context
	tx   *sql.Tx
	dec  *json.Decoder
	keys KeyResolver
	now  time.Time
	self string

	insDetail *sql.Stmt

	version    int64
	hasAgg     bool
	fromDetail *batch // aggregates of newly added details (reference exports)
	aggBatch   *batch // aggregates of `aggregates` (our exports), after the ledger
	labels     map[string]string

	detailsAdded, detailsSkipped int64
	aggAdded, aggSkipped         int64
	origin                       string
}

func invalid(format string, args ...any) error {
	return errs.New(errs.Invalid, "invalid usage export: "+format, args...)
}

// Import merges one export in one write transaction: any error rolls all
// of it back.
func (s *SQLiteStore) Import(ctx context.Context, r io.Reader, keys KeyResolver, now time.Time) (ImportResult, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, insertDetail)
	if err != nil {
		return ImportResult{}, err
	}
	defer st.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.UseNumber()
	im := &importer{ctx: ctx, tx: tx, dec: dec, keys: keys, now: now, self: s.instance, insDetail: st,
		fromDetail: newBatch(), aggBatch: newBatch(), labels: map[string]string{}}
	if err := im.document(); err != nil {
		return ImportResult{}, err
	}
	if im.version != 0 && im.version != 1 {
		return ImportResult{}, errs.New(errs.Invalid, "unsupported version")
	}
	var res ImportResult
	if im.hasAgg {
		// Our export: the aggregates are complete, the details only refill
		// the detail window.
		if err := im.aggBatch.write(ctx, tx); err != nil {
			return ImportResult{}, err
		}
		res.Added, res.Skipped = im.aggAdded, im.aggSkipped
	} else {
		if err := im.fromDetail.write(ctx, tx); err != nil {
			return ImportResult{}, err
		}
		res.Added, res.Skipped = im.detailsAdded, im.detailsSkipped
	}
	lb := newBatch()
	for id, l := range im.labels {
		lb.label(id, l)
	}
	if err := lb.write(ctx, tx); err != nil {
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
	added, err := insertDetailRow(im.ctx, im.insDetail, &row)
	if err != nil {
		return err
	}
	if !added {
		im.detailsSkipped++
		return nil
	}
	im.detailsAdded++
	c := counts{requests: 1, latencyMS: row.latencyMS, tok: tok}
	if row.failed {
		c.failures = 1
	}
	h := hourOf(row.ts)
	im.fromDetail.addRequest(reqKey{h, endpoint, model, client}, c)
	if cred != "" {
		im.fromDetail.addAttempt(attKey{h, cred, model}, "", c)
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
		bucket = strconv.FormatInt(b.Hour, 10) + "\x00" + b.Endpoint + "\x00" + b.Model + "\x00" + b.ClientKey
	} else {
		if b.Credential == "" {
			return nil
		}
		bucket = strconv.FormatInt(b.Hour, 10) + "\x00" + b.Credential + "\x00" + b.Model
	}
	var old counts
	err := im.tx.QueryRowContext(im.ctx, `SELECT requests, failures, latency_ms, input_tokens, output_tokens, reasoning_tokens,
		cached_tokens, total_tokens FROM usage_import_ledger WHERE origin = ? AND kind = ? AND bucket = ?`, im.origin, kind, bucket).
		Scan(&old.requests, &old.failures, &old.latencyMS, &old.tok.Input, &old.tok.Output, &old.tok.Reasoning, &old.tok.Cached, &old.tok.Total)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	nw := b.counts()
	delta := counts{
		requests: max(nw.requests-old.requests, 0), failures: max(nw.failures-old.failures, 0),
		latencyMS: max(nw.latencyMS-old.latencyMS, 0),
		tok: Tokens{Input: max(nw.tok.Input-old.tok.Input, 0), Output: max(nw.tok.Output-old.tok.Output, 0),
			Reasoning: max(nw.tok.Reasoning-old.tok.Reasoning, 0), Cached: max(nw.tok.Cached-old.tok.Cached, 0),
			Total: max(nw.tok.Total-old.tok.Total, 0)},
	}
	if delta == (counts{}) {
		if kind == "requests" {
			im.aggSkipped += b.Requests
		}
		return nil
	}
	top := counts{requests: max(nw.requests, old.requests), failures: max(nw.failures, old.failures), latencyMS: max(nw.latencyMS, old.latencyMS),
		tok: Tokens{Input: max(nw.tok.Input, old.tok.Input), Output: max(nw.tok.Output, old.tok.Output), Reasoning: max(nw.tok.Reasoning, old.tok.Reasoning),
			Cached: max(nw.tok.Cached, old.tok.Cached), Total: max(nw.tok.Total, old.tok.Total)}}
	if _, err := im.tx.ExecContext(im.ctx, `INSERT INTO usage_import_ledger (origin, kind, bucket, requests, failures, latency_ms,
		input_tokens, output_tokens, reasoning_tokens, cached_tokens, total_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (origin, kind, bucket) DO UPDATE SET requests = excluded.requests, failures = excluded.failures,
		latency_ms = excluded.latency_ms, input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens,
		reasoning_tokens = excluded.reasoning_tokens, cached_tokens = excluded.cached_tokens, total_tokens = excluded.total_tokens`,
		im.origin, kind, bucket, top.requests, top.failures, top.latencyMS, top.tok.Input, top.tok.Output, top.tok.Reasoning,
		top.tok.Cached, top.tok.Total); err != nil {
		return err
	}
	if kind == "requests" {
		im.aggAdded += delta.requests
		im.aggSkipped += b.Requests - delta.requests
		im.aggBatch.addRequest(reqKey{b.Hour, b.Endpoint, b.Model, b.ClientKey}, delta)
	} else {
		im.aggBatch.addAttempt(attKey{b.Hour, b.Credential, b.Model}, b.Provider, delta)
	}
	return nil
}

// isTooLarge reports whether the body ran over its limit, which the HTTP
// layer answers with 413 rather than 400.
func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
