package usage

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// The writer inserts a batch's details with one statement per
// detailChunk rows, the rows passed as one JSON array parameter and
// unpacked by json_each. The driver parses a statement's text again on
// every execution and journals the pages a statement touches, so a few
// large statements cost far less than a multi-row VALUES statement per
// 16 rows. (SQLite-specific: a PostgreSQL backend would use COPY.)

// detailChunk bounds one statement's JSON (about 300 bytes a row).
const detailChunk = 4096

var detailJSONInsert = func() string {
	cols := make([]string, detailWidth)
	for i := range cols {
		cols[i] = "value ->> " + strconv.Itoa(i)
	}
	return detailInsertHead[:strings.Index(detailInsertHead, " VALUES ")] +
		" SELECT " + strings.Join(cols, ", ") + " FROM json_each(?) WHERE true" + detailInsertTail
}()

// detailBatch encodes detail rows as a JSON array of arrays, in the
// column order of detailInsertHead.
type detailBatch struct {
	buf  []byte
	rows int
}

func (b *detailBatch) add(d *detailRow) {
	if b.rows == 0 {
		b.buf = append(b.buf[:0], '[')
	} else {
		b.buf = append(b.buf, ',')
	}
	b.rows++
	b.buf = append(b.buf, '[')
	b.buf = appendJSONString(b.buf, d.key)
	b.buf = append(b.buf, ',')
	b.buf = strconv.AppendInt(b.buf, d.ts.UnixNano(), 10)
	for _, s := range [...]string{d.requestID, d.endpoint, d.model, d.client, d.cred, d.source} {
		b.buf = append(b.buf, ',')
		b.buf = appendJSONString(b.buf, s)
	}
	for _, n := range [...]int64{int64(d.status), int64(boolInt(d.failed)), d.latencyMS,
		d.tok.Input, d.tok.Output, d.tok.Reasoning, d.tok.Cached, d.tok.Total} {
		b.buf = append(b.buf, ',')
		b.buf = strconv.AppendInt(b.buf, n, 10)
	}
	b.buf = append(b.buf, ']')
}

// flush inserts the rows added since the last flush.
func (b *detailBatch) flush(ctx context.Context, tx *sql.Tx) error {
	if b.rows == 0 {
		return nil
	}
	b.buf = append(b.buf, ']')
	// A string, not []byte: json_each reads text, and a blob would be
	// taken for JSONB.
	_, err := tx.ExecContext(ctx, detailJSONInsert, string(b.buf))
	b.rows = 0
	return err
}
