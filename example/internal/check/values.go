package check

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

// field is one column of a row as the text protocol sends it.
type field struct {
	name   string
	dbType string // the mysql driver's DatabaseTypeName: INT, UNSIGNED BIGINT, DATETIME, ...
	text   string
	null   bool
}

// dbRow is one row of a mapped table, in the table's column order.
type dbRow struct{ fields []field }

func (r *dbRow) field(name string) (field, bool) {
	for _, f := range r.fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return field{}, false
}

func scanRow(rows *sql.Rows, types []*sql.ColumnType) (*dbRow, error) {
	vals := make([]sql.RawBytes, len(types))
	ptrs := make([]any, len(types))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	row := &dbRow{}
	for i, t := range types {
		row.fields = append(row.fields, field{
			name: t.Name(), dbType: t.DatabaseTypeName(), text: string(vals[i]), null: vals[i] == nil,
		})
	}
	return row, nil
}

// expected is what a key should hold: the raw bytes of one column, or a
// JSON object of some columns.
type expected struct {
	raw    string
	fields []field // nil for a raw value
}

func expectedValue(m mysqletcd.Mapping, row *dbRow) expected {
	if m.Value.Column != "" {
		f, _ := row.field(m.Value.Column)
		return expected{raw: f.text} // NULL gives an empty value
	}
	if len(m.Columns) == 0 {
		return expected{fields: row.fields}
	}
	var fields []field
	for _, c := range m.Columns {
		f, _ := row.field(c)
		fields = append(fields, f)
	}
	return expected{fields: fields}
}

func (e expected) String() string {
	if e.fields == nil {
		return strconv.Quote(e.raw)
	}
	var parts []string
	for _, f := range e.fields {
		v := f.text
		if f.null {
			v = "NULL"
		}
		parts = append(parts, f.name+"("+f.dbType+")="+v)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// matches reports whether the value found in etcd is the one expected,
// following the mapping's JSON rules: integers and floats as numbers,
// DECIMAL as strings, times in RFC 3339 (UTC), JSON embedded, binary as
// base64, BIT as a number, NULL as null.
func (e expected) matches(got string) bool {
	if e.fields == nil {
		return got == e.raw
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(got))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || len(obj) != len(e.fields) {
		return false
	}
	for _, f := range e.fields {
		v, ok := obj[f.name]
		if !ok || !fieldMatches(f, v) {
			return false
		}
	}
	return true
}

// fieldMatches compares one decoded JSON value with a column's text.
func fieldMatches(f field, v any) bool {
	if f.null {
		return v == nil
	}
	typ := strings.TrimPrefix(f.dbType, "UNSIGNED ")
	switch typ {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR":
		n, ok := v.(json.Number)
		return ok && string(n) == f.text
	case "FLOAT", "DOUBLE":
		n, ok := v.(json.Number)
		want, err := strconv.ParseFloat(f.text, 64)
		got, err2 := strconv.ParseFloat(string(n), 64)
		return ok && err == nil && err2 == nil && got == want
	case "BIT":
		var want uint64
		for _, b := range []byte(f.text) {
			want = want<<8 | uint64(b)
		}
		n, ok := v.(json.Number)
		return ok && string(n) == strconv.FormatUint(want, 10)
	case "DATETIME", "TIMESTAMP":
		s, ok := v.(string)
		got, err := time.Parse(time.RFC3339Nano, s)
		want, err2 := time.Parse("2006-01-02 15:04:05.999999", f.text)
		return ok && err == nil && err2 == nil && got.Equal(want)
	case "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB":
		s, ok := v.(string)
		return ok && s == base64.StdEncoding.EncodeToString([]byte(f.text))
	}
	if s, ok := v.(string); ok {
		return s == f.text
	}
	// A JSON column (MariaDB's is a LONGTEXT with a json_valid check) is
	// embedded as is.
	var want any
	dec := json.NewDecoder(bytes.NewReader([]byte(f.text)))
	dec.UseNumber()
	return dec.Decode(&want) == nil && reflect.DeepEqual(v, want)
}
