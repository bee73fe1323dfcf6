package sqlparse

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
)

func frag(sql string, params ...int) *Fragment {
	if len(params) == 0 {
		return &Fragment{SQL: sql}
	}
	return &Fragment{SQL: sql, Params: params}
}

func TestParseRestoresUpdateAndDeleteClauses(t *testing.T) {
	type clauses struct{ With, From, Where, OrderBy, Limit *Fragment }
	tests := []struct {
		name string
		sql  string
		want clauses
	}{
		{"no where", "UPDATE t SET a = 1", clauses{}},
		{"where", "UPDATE t SET a = ? WHERE id = ?", clauses{Where: frag("`id`=?", 1)}},
		{"order and limit", "UPDATE jobs SET s = 'r' WHERE s = ? ORDER BY priority DESC, id LIMIT 10", clauses{
			Where: frag("`s`=?", 0), OrderBy: frag("`priority` DESC, `id`"), Limit: frag("10"),
		}},
		{"limit placeholder", "DELETE FROM q WHERE o IS NULL LIMIT ?", clauses{Where: frag("`o` IS NULL"), Limit: frag("?", 0)}},
		{"strings are quoted and escaped", `DELETE FROM t WHERE s = 'it''s' OR s = "a\\b" OR s = 'x\ny'`, clauses{
			Where: frag("`s`='it''s' OR `s`='a\\\\b' OR `s`='x\ny'"),
		}},
		{"written introducer kept", "DELETE FROM t WHERE s = _utf8mb4'x' COLLATE utf8mb4_bin", clauses{
			Where: frag("`s`=_UTF8MB4'x' COLLATE utf8mb4_bin"),
		}},
		{"names are quoted", "DELETE FROM `order` WHERE `key` = 1 AND `a``b` = 2", clauses{
			Where: frag("`key`=1 AND `a``b`=2"),
		}},
		{"in list", "DELETE FROM t WHERE a IN (?, ?) AND (b, c) IN ((?, ?))", clauses{
			Where: frag("`a` IN (?,?) AND ROW(`b`,`c`) IN (ROW(?,?))", 0, 1, 2, 3),
		}},
		{"params in restored order", "UPDATE t SET a = ? WHERE d = INTERVAL ? DAY + ?", clauses{
			Where: frag("`d`=DATE_ADD(?, INTERVAL ? DAY)", 2, 1),
		}},
		{"subquery", "UPDATE t SET v = 0 WHERE id IN (SELECT id FROM (SELECT id FROM t WHERE c < ?) AS old)", clauses{
			Where: frag("`id` IN (SELECT `id` FROM (SELECT `id` FROM `t` WHERE `c`<? FOR UPDATE) AS `old` FOR UPDATE)", 0),
		}},
		{"alias replaced by table", "UPDATE accounts AS a SET a.b = a.b - ? WHERE a.id = ? ORDER BY a.id", clauses{
			Where: frag("`accounts`.`id`=?", 1), OrderBy: frag("`accounts`.`id`"),
		}},
		{"alias replaced by qualified table", "DELETE FROM db.t AS a WHERE a.id = ?", clauses{
			Where: frag("`db`.`t`.`id`=?", 0),
		}},
		{"alias kept in subquery that declares it", "DELETE FROM t AS a WHERE a.x = 1 AND EXISTS (SELECT 1 FROM u AS a WHERE a.y = 2)", clauses{
			Where: frag("`t`.`x`=1 AND EXISTS (SELECT 1 FROM `u` AS `a` WHERE `a`.`y`=2 FOR UPDATE)"),
		}},
		{"alias kept in subquery that declares the table", "DELETE FROM t AS a WHERE a.x IN (SELECT x FROM (SELECT x FROM t WHERE t.y = a.y) AS d)", clauses{
			Where: frag("`t`.`x` IN (SELECT `x` FROM (SELECT `x` FROM `t` WHERE `t`.`y`=`a`.`y` FOR UPDATE) AS `d` FOR UPDATE)"),
		}},
		{"partition selection", "DELETE FROM t PARTITION (p0) WHERE a < 10", clauses{
			From: frag("`t` PARTITION(`p0`)"), Where: frag("`a`<10"),
		}},
		{"multi-table update", "UPDATE orders o JOIN customers c ON o.cid = c.id AND c.k = ? SET o.d = ? WHERE c.id = ?", clauses{
			From:  frag("`orders` AS `o` JOIN `customers` AS `c` ON `o`.`cid`=`c`.`id` AND `c`.`k`=?", 0),
			Where: frag("`c`.`id`=?", 2),
		}},
		{"multi-table delete", "DELETE o FROM orders o JOIN users u ON u.id = o.uid WHERE u.banned = ?", clauses{
			From:  frag("`orders` AS `o` JOIN `users` AS `u` ON `u`.`id`=`o`.`uid`"),
			Where: frag("`u`.`banned`=?", 0),
		}},
		{"multi-table delete using", "DELETE FROM t1 USING t1 JOIN t2 ON t1.id = t2.id WHERE t2.x = 1", clauses{
			From:  frag("`t1` JOIN `t2` ON `t1`.`id`=`t2`.`id`"),
			Where: frag("`t2`.`x`=1"),
		}},
		{"with", "WITH old AS (SELECT id FROM s WHERE seen < ?) DELETE FROM s WHERE id IN (SELECT id FROM old)", clauses{
			With:  frag("WITH `old` AS (SELECT `id` FROM `s` WHERE `seen`<?)", 0),
			From:  frag("`s`"),
			Where: frag("`id` IN (SELECT `id` FROM `old` FOR UPDATE)"),
		}},
		{"with recursive", "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) DELETE FROM t WHERE id IN (SELECT n FROM r)", clauses{
			With:  frag("WITH RECURSIVE `r` AS (SELECT 1 AS `n` UNION ALL SELECT `n`+1 FROM `r` WHERE `n`<3)"),
			From:  frag("`t`"),
			Where: frag("`id` IN (SELECT `n` FROM `r` FOR UPDATE)"),
		}},
		{"comments and hints dropped", "UPDATE /*+ SET_VAR(x=1) */ t /* c */ SET a = 1 WHERE id = ? -- done", clauses{Where: frag("`id`=?", 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			got := clauses{st.With, st.From, st.Where, st.OrderBy, st.Limit}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", show(got), show(tt.want))
			}
			checkSelectFor(t, st)
			checkParamsBind(t, tt.sql)
		})
	}
}

// show prints fragments, which %+v would print as pointers.
func show(c any) string {
	v := reflect.ValueOf(c)
	s := "{"
	for i := range v.NumField() {
		if f := v.Field(i).Interface().(*Fragment); f != nil {
			s += fmt.Sprintf("%s: %q %v; ", v.Type().Field(i).Name, f.SQL, f.Params)
		}
	}
	return s + "}"
}

// silentRestorer writes nothing, as restore code that drops a part would.
type silentRestorer struct{}

func (silentRestorer) Restore(*format.RestoreCtx) error { return nil }

func TestFragmentRefusesTextThatLosesAPlaceholder(t *testing.T) {
	w := &worker{p: parser.New()}
	nodes, _, err := w.p.ParseSQL("DELETE FROM t WHERE a = ?")
	if err != nil {
		t.Fatal(err)
	}
	w.prepare(nodes[0])
	w.numberMarkers()
	where := nodes[0].(*ast.DeleteStmt).Where
	if _, err := w.fragment("where", where, silentRestorer{}); !errors.Is(err, errLostPlaceholder) {
		t.Errorf("fragment error = %v, want %v", err, errLostPlaceholder)
	}
	if f, err := w.fragment("where", where, where); err != nil || f.SQL != "`a`=?" {
		t.Errorf("fragment = %+v, %v", f, err)
	}
}

func TestParseQuotesStoredFunctionNamesThatNeedIt(t *testing.T) {
	tests := []struct{ sql, where string }{
		{"DELETE FROM t WHERE `0`(a) = 1", "`0`(`a`)=1"},
		{"DELETE FROM t WHERE `a-b`(?) = 1", "`a-b`(?)=1"},
		{"DELETE FROM t WHERE my_func(a) = 1", "MY_FUNC(`a`)=1"},
		{"DELETE FROM t WHERE db.f(a) = 1", "`db`.`f`(`a`)=1"},
		{"DELETE FROM t WHERE d > DATE '2024-01-01'", "`d`>DATE '2024-01-01'"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			if st.Where.SQL != tt.where {
				t.Errorf("Where = %q, want %q", st.Where.SQL, tt.where)
			}
			checkSelectFor(t, st)
		})
	}
}
