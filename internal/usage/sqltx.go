package usage

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// sqlTx is a transaction of either backend. The store's statements are
// written once, with ? placeholders; for PostgreSQL they are bound to $1,
// $2, … on the way in. For SQLite nothing is rewritten.
type sqlTx struct {
	*sql.Tx
	pg bool
}

func (s *sqlCore) begin(ctx context.Context, db *sql.DB) (*sqlTx, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqlTx{Tx: tx, pg: s.pg}, nil
}

// bind is query as the store's database takes it.
func (s *sqlCore) bind(query string) string { return bindFor(s.pg, query) }

func (t *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, bindFor(t.pg, query), args...)
}

func (t *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, bindFor(t.pg, query), args...)
}

func (t *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, bindFor(t.pg, query), args...)
}

func (t *sqlTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.Tx.PrepareContext(ctx, bindFor(t.pg, query))
}

// bindFor numbers the ? placeholders of query for PostgreSQL ($1, $2, …);
// a ? inside a quoted string or identifier is left alone.
func bindFor(pg bool, query string) string {
	if !pg || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + len(query)/8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
