package sqlparse

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseListsWhereEqualities(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []Assignment
	}{
		{"placeholder", "UPDATE t SET a = ? WHERE id = ?", []Assignment{{Column: "id", Value: param(1)}}},
		{"literal either side", "DELETE FROM t WHERE 5 = id", []Assignment{{Column: "id", Value: lit(int64(5))}}},
		{"and chain", "UPDATE t SET a = 1 WHERE k1 = 'x' AND (k2 = -2 AND t.k3 = ?) && k4 = 1.5", []Assignment{
			{Column: "k1", Value: lit("x")},
			{Column: "k2", Value: lit(int64(-2))},
			{Table: "t", Column: "k3", Value: param(0)},
			{Column: "k4", Value: lit("1.5")},
		}},
		{"and beside an or", "DELETE FROM t WHERE id = 1 AND (a = 2 OR b = 3)", []Assignment{{Column: "id", Value: lit(int64(1))}}},
		{"or at the top", "DELETE FROM t WHERE id = 1 OR id = 2", nil},
		{"not", "DELETE FROM t WHERE NOT (id = 1)", nil},
		{"other comparisons", "DELETE FROM t WHERE id > 1 AND k <=> 2 AND j IN (3) AND m = n AND p = NULL AND q = NOW()", nil},
		{"alias resolved", "UPDATE accounts AS a SET a.b = 0 WHERE a.id = ?", []Assignment{{Table: "accounts", Column: "id", Value: param(0)}}},
		{"schema qualified", "DELETE FROM db.t WHERE db.t.id = 1 AND other.t.k = 2 AND u.k = 3", []Assignment{{Table: "t", Column: "id", Value: lit(int64(1))}}},
		{"orm soft delete", "UPDATE `users` SET `name`=? WHERE `users`.`deleted_at` IS NULL AND `id` = ?", []Assignment{{Column: "id", Value: param(1)}}},
		{"no where", "DELETE FROM t", nil},
		{"multi-table", "UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1 WHERE t1.id = 1", nil},
		{"with clause", "WITH c AS (SELECT 1) DELETE FROM t WHERE id = 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseOne(t, tt.sql).WhereEq; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("WhereEq = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOrderColumnsListPlainColumnsOnly(t *testing.T) {
	tests := map[string][]string{
		"UPDATE t SET a = 1 ORDER BY id DESC, t.b LIMIT 2": {"id", "b"},
		"DELETE FROM t ORDER BY id + 1 LIMIT 2":            nil,
		"DELETE FROM t WHERE a = 1 LIMIT 2":                nil,
	}
	for sql, want := range tests {
		stmts, err := Parse(sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		if got := stmts[0].OrderColumns; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: OrderColumns = %q, want %q", sql, got, want)
		}
	}
}

func TestOrderItemsRestoreEachExpressionWithoutItsDirection(t *testing.T) {
	stmts, err := Parse("UPDATE jobs AS j SET s = ? ORDER BY prio DESC, FIELD(k, ?, ?), j.b ASC, (c) LIMIT ?")
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderItem{
		{Expr: frag("`prio`"), Column: "prio"},
		{Expr: frag("FIELD(`k`, ?, ?)", 1, 2), Column: ""},
		{Expr: frag("`jobs`.`b`"), Column: "b"},
		{Expr: frag("(`c`)"), Column: "c"},
	}
	if got := stmts[0].OrderItems; !reflect.DeepEqual(got, want) {
		t.Errorf("OrderItems =\n%+v\nwant\n%+v", got, want)
	}
}
