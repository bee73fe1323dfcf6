package mysqletcd

import (
	"context"
	"database/sql"
	"strings"
)

// rowsRead is what a push learnt from the database for its batch.
type rowsRead struct {
	want   [][]byte // per batch item: the value the key should hold, nil for none
	others []item   // rows the lookups found that render to keys outside the batch
}

// readRows reads the batch's rows in one autocommit query on the syncer's own
// connection pool, which the driver does not intercept.
func (s *syncer) readRows(ctx context.Context, m *mapping, batch []item) (rowsRead, error) {
	query, args := m.lookupQuery(batch)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	found, err := m.scanRows(ctx, s.db, query, args)
	if err != nil && !isNoSuchTable(err) { // a dropped table has no rows
		return rowsRead{}, err
	}
	index := make(map[string]int, len(batch))
	for i, it := range batch {
		index[it.key] = i
	}
	res := rowsRead{want: make([][]byte, len(batch))}
	for _, r := range found {
		i, ok := index[r.key]
		if !ok {
			res.others = append(res.others, item{m: m, key: r.key, vals: r.keyVals})
			continue
		}
		if r.match {
			res.want[i] = r.value
		}
	}
	return res, nil
}

// foundRow is one row of a mapping's table, rendered.
type foundRow struct {
	key     string
	keyVals []any
	value   []byte
	match   bool // the mapping's where: holds
}

// lookupQuery selects the rows whose key columns equal any item's values.
func (m *mapping) lookupQuery(batch []item) (string, []any) {
	var b strings.Builder
	b.WriteString(m.selectList())
	b.WriteString(" WHERE ")
	args := make([]any, 0, len(batch)*len(m.keyCols))
	if len(m.keyCols) == 1 {
		b.WriteString(quoteIdent(m.keyCols[0]))
		b.WriteString(" IN (")
	} else {
		b.WriteString("(")
		b.WriteString(quoteIdents(m.keyCols))
		b.WriteString(") IN (")
	}
	for i, it := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(placeholders(len(m.keyCols)))
		args = append(args, it.vals...)
	}
	b.WriteByte(')')
	return b.String(), args
}

// selectList is "SELECT <key and value columns>, <where: as 0/1> FROM <table>".
func (m *mapping) selectList() string {
	filter := "1"
	if m.cfg.Where != "" {
		filter = "COALESCE((" + m.cfg.Where + "), 0) <> 0"
	}
	return "SELECT " + m.table.selectCols("", m.readCols) + ", " + filter + " FROM " + quoteTable(m.table.schema, m.table.name)
}

// scanRows runs a query built on selectList and renders each row.
func (m *mapping) scanRows(ctx context.Context, db *sql.DB, query string, args []any) ([]foundRow, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []foundRow
	vals := make([]any, len(m.readCols)+1)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, m.render(vals))
	}
	return out, rows.Err()
}

// render turns one scanned row (readCols, then the filter) into its key and
// value.
func (m *mapping) render(vals []any) foundRow {
	n := len(m.keyCols)
	texts := make([]string, n)
	keyVals := make([]any, n)
	for i := 0; i < n; i++ {
		c, _ := m.table.column(m.keyCols[i])
		texts[i] = keyText(c, vals[i])
		keyVals[i] = lookupValue(c, vals[i])
	}
	r := foundRow{key: m.tmpl.render(texts), keyVals: keyVals, match: truthy(vals[len(vals)-1])}
	if r.match {
		r.value = m.value(vals)
	}
	return r
}

// value encodes the mapping's value from a row scanned in readCols order.
func (m *mapping) value(vals []any) []byte {
	if m.cfg.Value.Column != "" {
		// A copy (the scan buffer is reused), and never nil: NULL is an
		// empty value, nil means no key.
		return append([]byte{}, rawBytes(vals[m.valueIdx[0]])...)
	}
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, name := range m.valueCols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		c, _ := m.table.column(name)
		b = appendJSON(b, c, vals[m.valueIdx[i]])
	}
	return append(b, '}')
}

func truthy(v any) bool {
	switch v := v.(type) {
	case int64:
		return v != 0
	case []byte:
		return len(v) > 0 && string(v) != "0"
	case bool:
		return v
	}
	return false
}

// lookupValue copies a scanned key value for later lookups: as a string,
// so that comparisons and ORDER BY agree on the column's collation, except
// for binary columns, which compare bytes.
func lookupValue(c column, v any) any {
	if b, ok := v.([]byte); ok {
		if c.binary {
			return append([]byte(nil), b...)
		}
		return string(b)
	}
	return v
}

func quoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

func quoteTable(schema, name string) string { return quoteIdent(schema) + "." + quoteIdent(name) }

func placeholders(n int) string {
	if n == 1 {
		return "?"
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", n), ",") + ")"
}
