package mysqletcd

import (
	"database/sql/driver"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// A key taken from statement text is only as good as its match with what
// the server stores and compares. "id = '7.0'" finds row 7, "name = 'ANN'"
// finds 'ann' under a case-blind collation, 7.6 is stored as 8. The push
// corrects a key whose row it can still look up, but not one whose row is
// gone (DELETE, REPLACE) or moved to a value it cannot compute; there the
// driver reads the rows instead.

// lookupable reports whether looking v up in column c finds the row the
// server matched for it: the push then renders the row's real key.
func lookupable(c column, v any) bool {
	switch {
	case exactIntegerColumn(c):
		return exactInteger(v) && inRange(c, v)
	case c.binary:
		return isText(v)
	case c.textual():
		_, ok := v.(string) // []byte would compare as binary
		return ok
	}
	return false
}

// exactIdentity reports whether v, compared with column c, matches exactly
// the rows whose key text is keyText(c, v).
func exactIdentity(c column, v any) bool {
	switch {
	case exactIntegerColumn(c):
		return exactInteger(v) && inRange(c, v)
	case c.binary:
		return c.dataType != "binary" && isText(v) // BINARY(n) pads
	case c.textual() && c.dataType != "enum" && c.dataType != "set":
		_, ok := v.(string)
		return ok && c.binaryCollation() && c.noPad()
	}
	return false
}

// exactStored reports whether the server stores v in column c as keyText
// renders it.
// Out-of-range numbers and over-long strings are clipped by INSERT IGNORE
// and non-strict sql_modes, so they are not exact.
func exactStored(c column, v any) bool {
	switch {
	case exactIntegerColumn(c):
		return exactInteger(v) && inRange(c, v)
	case c.binary:
		b, ok := v.([]byte)
		if s, isString := v.(string); isString {
			b, ok = []byte(s), true
		}
		return ok && c.dataType != "binary" && (c.maxLen == 0 || int64(len(b)) <= c.maxLen)
	case c.textual() && c.dataType != "enum" && c.dataType != "set":
		s, ok := v.(string)
		if b, isBytes := v.([]byte); isBytes {
			s, ok = string(b), true
		}
		return ok && !(c.dataType == "char" && strings.HasSuffix(s, " ")) &&
			utf8.ValidString(s) && (c.maxLen == 0 || int64(utf8.RuneCountInString(s)) <= c.maxLen)
	}
	return false
}

// exactIntegerColumn is an integer type whose values are stored as given;
// YEAR is not (24 is stored as 2024).
func exactIntegerColumn(c column) bool { return isInteger(c) && c.dataType != "year" }

// inRange reports whether an integer value fits the column's type.
func inRange(c column, v any) bool {
	var bits uint
	switch c.dataType {
	case "tinyint":
		bits = 8
	case "smallint":
		bits = 16
	case "mediumint":
		bits = 24
	case "int", "integer":
		bits = 32
	case "bigint":
		bits = 64
	default:
		return false
	}
	var neg bool
	var mag uint64 // the magnitude
	switch v := v.(type) {
	case int64:
		neg, mag = v < 0, uint64(v)
		if neg {
			mag = uint64(-(v + 1)) + 1
		}
	case uint64:
		mag = v
	case float64:
		return inRange(c, int64(v))
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return inRange(c, n)
		}
		n, err := strconv.ParseUint(v, 10, 64)
		return err == nil && inRange(c, n)
	default:
		return false
	}
	if c.unsigned {
		return !neg && (bits == 64 || mag < 1<<bits)
	}
	limit := uint64(1) << (bits - 1) // -limit .. limit-1
	if neg {
		return mag <= limit
	}
	return mag < limit
}

func exactInteger(v any) bool {
	switch v := v.(type) {
	case int64, uint64:
		return true
	case float64:
		return v == float64(int64(v))
	case string:
		return canonicalInteger(v)
	}
	return false
}

// canonicalInteger accepts what strconv parses as an integer; "007" is
// fine (keyText normalises it), " 7", "7.0" and "0x7" are not.
func canonicalInteger(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

func isText(v any) bool {
	switch v.(type) {
	case string, []byte:
		return true
	}
	return false
}

// textual is a character type compared under a collation.
func (c column) textual() bool {
	switch c.dataType {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

// binaryCollation compares bytes, not letters: 'A' <> 'a'.
func (c column) binaryCollation() bool {
	return strings.HasSuffix(c.collation, "_bin") || c.collation == "binary"
}

// noPad: trailing spaces count in comparisons ('a' <> 'a '), as in MariaDB's
// _nopad_ collations and MySQL 8's 0900 ones.
func (c column) noPad() bool {
	return strings.Contains(c.collation, "nopad") || strings.Contains(c.collation, "0900")
}

// argValue is the value a statement gives: a literal, or an arg.
func argValue(v sqlparse.Value, args []driver.NamedValue) (any, bool) {
	switch v.Kind {
	case sqlparse.Literal:
		return v.Literal, true
	case sqlparse.Param:
		if v.Param < len(args) {
			return args[v.Param].Value, true
		}
	}
	return nil, false
}

// forArgs is the plan to run with these args: a WHERE-pinned plan whose
// values do not pin the stored keys exactly falls back to reading the rows,
// and an upsert skips its conflict read only when its key values are exact.
func (w *tableWrite) forArgs(args []driver.NamedValue) *tableWrite {
	t := w.t
	switch {
	case w.fallback != nil:
		check := lookupable
		if w.deletes {
			check = exactIdentity
		}
		for i, c := range t.idCols {
			if !t.isKeyCol(c) {
				continue
			}
			v, ok := argValue(w.rows[0][w.idIdx[i]], args)
			col, _ := t.column(c)
			if !ok || !check(col, v) {
				return w.fallback
			}
		}
	case w.conflictsPinned:
		for _, row := range w.rows {
			for i, c := range t.idCols {
				v, ok := argValue(valueOr(row, w.idIdx[i]), args)
				col, _ := t.column(c)
				if ok && !exactIdentity(col, v) {
					cp := *w
					cp.conflicts = true
					return &cp
				}
			}
		}
	}
	return w
}

func valueOr(row []sqlparse.Value, j int) sqlparse.Value {
	if j < 0 {
		return sqlparse.Value{Kind: sqlparse.Default}
	}
	return row[j]
}

// forArgs resolves a single-statement plan for these args; the cached plan
// itself when no write changes.
func (p *plan) forArgs(args []driver.NamedValue) *plan {
	if !p.single {
		return p
	}
	var writes []*tableWrite
	for i, w := range p.stmts[0].writes {
		if rw := w.forArgs(args); rw != w {
			if writes == nil {
				writes = append([]*tableWrite(nil), p.stmts[0].writes...)
			}
			writes[i] = rw
		}
	}
	if writes == nil {
		return p
	}
	sp := p.stmts[0]
	sp.writes = writes
	return &plan{single: true, stmts: []stmtPlan{sp}}
}
