package sqlparse

import (
	"math"
	"reflect"
	"slices"
	"testing"
)

func lit(v any) Value        { return Value{Kind: Literal, Literal: v} }
func param(i int) Value      { return Value{Kind: Param, Param: i} }
func expr() Value            { return Value{Kind: Expr} }
func null() Value            { return Value{Kind: Null} }
func deflt() Value           { return Value{Kind: Default} }
func row(v ...Value) []Value { return v }

func TestParseClassifiesInsertValues(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want Value
	}{
		{"int", "INSERT INTO t VALUES (42)", lit(int64(42))},
		{"negative int", "INSERT INTO t VALUES (-42)", lit(int64(-42))},
		{"plus int", "INSERT INTO t VALUES (+42)", lit(int64(42))},
		{"double negative", "INSERT INTO t VALUES (- -42)", lit(int64(42))},
		{"min int64", "INSERT INTO t VALUES (-9223372036854775808)", lit(int64(math.MinInt64))},
		{"max uint64", "INSERT INTO t VALUES (18446744073709551615)", lit(uint64(math.MaxUint64))},
		{"negative beyond int64", "INSERT INTO t VALUES (-9223372036854775809)", expr()},
		{"float", "INSERT INTO t VALUES (1.5e3)", lit(1500.0)},
		{"negative float", "INSERT INTO t VALUES (-1.5e3)", lit(-1500.0)},
		{"decimal keeps its text", "INSERT INTO t VALUES (1.250)", lit("1.250")},
		{"negative decimal", "INSERT INTO t VALUES (-0.5)", lit("-0.5")},
		{"string", "INSERT INTO t VALUES ('it''s')", lit("it's")},
		{"escaped string", `INSERT INTO t VALUES ('O\'Brien\\')`, lit(`O'Brien\`)},
		{"double quoted string", `INSERT INTO t VALUES ("x")`, lit("x")},
		{"charset introducer", "INSERT INTO t VALUES (_utf8mb4'x')", lit("x")},
		{"binary string", `INSERT INTO t VALUES (_binary'\0\Z')`, lit([]byte{0, 26})},
		{"hex", "INSERT INTO t VALUES (X'DEADBEEF')", lit([]byte{0xde, 0xad, 0xbe, 0xef})},
		{"0x hex", "INSERT INTO t VALUES (0x0102)", lit([]byte{1, 2})},
		{"bit", "INSERT INTO t VALUES (b'1010')", lit([]byte{10})},
		{"true", "INSERT INTO t VALUES (TRUE)", lit(int64(1))},
		{"parenthesised", "INSERT INTO t VALUES ((7))", lit(int64(7))},
		{"null", "INSERT INTO t VALUES (NULL)", null()},
		{"default", "INSERT INTO t VALUES (DEFAULT)", deflt()},
		{"default of a column", "INSERT INTO t VALUES (DEFAULT(a))", expr()},
		{"placeholder", "INSERT INTO t VALUES (?)", param(0)},
		{"parenthesised placeholder", "INSERT INTO t VALUES ((?))", param(0)},
		{"negated placeholder", "INSERT INTO t VALUES (-?)", expr()},
		{"negated string", "INSERT INTO t VALUES (-'1')", expr()},
		{"function", "INSERT INTO t VALUES (NOW())", expr()},
		{"function of placeholder", "INSERT INTO t VALUES (UNHEX(?))", expr()},
		{"arithmetic", "INSERT INTO t VALUES (1 + 1)", expr()},
		{"date literal", "INSERT INTO t VALUES (DATE '2024-01-01')", expr()},
		{"collated string", "INSERT INTO t VALUES ('x' COLLATE utf8mb4_bin)", expr()},
		{"subquery", "INSERT INTO t VALUES ((SELECT 1))", expr()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			if len(st.Rows) != 1 || len(st.Rows[0]) != 1 {
				t.Fatalf("Rows = %+v, want one value", st.Rows)
			}
			if got := st.Rows[0][0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseReadsInsertShape(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want Statement
	}{
		{"columns and rows", "INSERT INTO t (a, b) VALUES (1, ?), (?, 'x')", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Columns: []string{"a", "b"},
			Rows: [][]Value{row(lit(int64(1)), param(0)), row(param(1), lit("x"))},
		}},
		{"no column list", "INSERT INTO t VALUES (1)", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Rows: [][]Value{row(lit(int64(1)))},
		}},
		{"empty row", "INSERT INTO t () VALUES ()", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Rows: [][]Value{{}},
		}},
		{"set form", "INSERT INTO db.t SET `Id` = ?, v = DEFAULT", Statement{
			Kind: Insert, Tables: []TableName{{Schema: "db", Name: "t"}}, Columns: []string{"Id", "v"},
			Rows: [][]Value{row(param(0), deflt())},
		}},
		{"row constructors", "INSERT INTO t (a) VALUES ROW(1), ROW(?)", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Columns: []string{"a"},
			Rows: [][]Value{row(lit(int64(1))), row(param(0))},
		}},
		{"ignore", "INSERT IGNORE INTO t VALUES (1)", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Ignore: true, Rows: [][]Value{row(lit(int64(1)))},
		}},
		{"executable comment", "INSERT /*!50000 IGNORE */ INTO t VALUES (1)", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Ignore: true, Rows: [][]Value{row(lit(int64(1)))},
		}},
		{"replace", "REPLACE t SET a = 1", Statement{
			Kind: Replace, Tables: []TableName{{Name: "t"}}, Columns: []string{"a"}, Rows: [][]Value{row(lit(int64(1)))},
		}},
		{"select", "INSERT INTO t (a) SELECT b FROM s WHERE c = ?", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Columns: []string{"a"}, Select: true,
		}},
		{"table", "INSERT INTO t TABLE s", Statement{Kind: Insert, Tables: []TableName{{Name: "t"}}, Select: true}},
		{"union", "INSERT INTO t (SELECT 1) UNION (SELECT 2)", Statement{Kind: Insert, Tables: []TableName{{Name: "t"}}, Select: true}},
		{"with", "INSERT INTO t WITH c AS (SELECT 1) SELECT * FROM c", Statement{Kind: Insert, Tables: []TableName{{Name: "t"}}, Select: true}},
		{"on duplicate", "INSERT INTO t (a, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1, a = VALUES(a), t.b = ?, c = NULL", Statement{
			Kind: Insert, Tables: []TableName{{Name: "t"}}, Columns: []string{"a", "n"},
			Rows: [][]Value{row(param(0), lit(int64(1)))},
			OnDuplicate: []Assignment{
				{Column: "n", Value: expr()},
				{Column: "a", Value: expr()},
				{Table: "t", Column: "b", Value: param(1)},
				{Column: "c", Value: null()},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseOne(t, tt.sql); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseNumbersPlaceholdersAcrossTheText(t *testing.T) {
	stmts, err := Parse("INSERT INTO t VALUES (?, ?); UPDATE t SET a = ? WHERE id = ? LIMIT ?; DELETE FROM t WHERE id IN (?, ?)")
	if err != nil {
		t.Fatal(err)
	}
	if got := stmts[0].Rows[0]; !reflect.DeepEqual(got, row(param(0), param(1))) {
		t.Errorf("INSERT row = %+v", got)
	}
	if got := stmts[1].Set[0].Value; got != param(2) {
		t.Errorf("UPDATE SET value = %+v, want arg 2", got)
	}
	if got := stmts[1].Where.Params; !slices.Equal(got, []int{3}) {
		t.Errorf("UPDATE Where.Params = %v, want [3]", got)
	}
	if got := stmts[1].Limit.Params; !slices.Equal(got, []int{4}) {
		t.Errorf("UPDATE Limit.Params = %v, want [4]", got)
	}
	if got := stmts[2].Where.Params; !slices.Equal(got, []int{5, 6}) {
		t.Errorf("DELETE Where.Params = %v, want [5 6]", got)
	}
}

func TestParseIgnoresQuestionMarksOutsidePlaceholders(t *testing.T) {
	st := parseOne(t, "UPDATE t /* why? */ SET a = '?', `b?` = ? WHERE c = ? -- really?")
	if got := st.Set[1].Value; got != param(0) {
		t.Errorf("SET value = %+v, want arg 0", got)
	}
	if got := st.Where.Params; !slices.Equal(got, []int{1}) {
		t.Errorf("Where.Params = %v, want [1]", got)
	}
}

func TestParsePlaceholderIndicesBindToTheRightArgs(t *testing.T) {
	for _, sql := range []string{
		"INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON DUPLICATE KEY UPDATE b = ?",
		"INSERT INTO t SET a = ?, b = UNHEX(?), c = ?",
		"UPDATE t SET a = ?, b = ? + ? WHERE c = ? AND d BETWEEN ? AND ? ORDER BY e LIMIT ?",
		"UPDATE t SET a = ? WHERE d = INTERVAL ? DAY + ?",
		"UPDATE t SET a = ? WHERE TRIM(LEADING ? FROM b) = ?",
		"DELETE FROM t WHERE a = ? ORDER BY IF(b > ?, 1, 0) LIMIT ?",
		"WITH c AS (SELECT id FROM s WHERE x = ?) UPDATE t JOIN c ON c.id = t.id AND t.k = ? SET t.v = ? WHERE t.w = ?",
		"DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id AND t2.k = ? WHERE t1.v = ?",
		"BEGIN; UPDATE t SET a = ? WHERE b = ?; DELETE FROM t WHERE c = ?; COMMIT",
	} {
		t.Run(sql, func(t *testing.T) { checkParamsBind(t, sql) })
	}
}
