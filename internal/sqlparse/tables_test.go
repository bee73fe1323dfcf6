package sqlparse

import (
	"reflect"
	"slices"
	"testing"
)

func TestParseListsWrittenTables(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string
	}{
		{"insert keeps schema and case", "INSERT INTO `Shop`.`Orders` VALUES (1)", []string{"Shop.Orders"}},
		{"insert select lists only the target", "INSERT INTO t SELECT * FROM s JOIN u", []string{"t"}},
		{"update single", "UPDATE db.t SET a = 1", []string{"db.t"}},
		{"update alias resolves to table", "UPDATE accounts AS a SET a.x = 1", []string{"accounts"}},
		{"update subquery table is read only", "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM u)", []string{"t"}},
		{"multi update lists set targets", "UPDATE orders o JOIN customers c ON o.cid = c.id SET o.d = c.d", []string{"orders"}},
		{"multi update several targets", "UPDATE t1, t2 SET t2.b = 0, t1.a = t2.a", []string{"t2", "t1"}},
		{"multi update schema alias", "UPDATE shop.items AS i LEFT JOIN shop.stock AS s ON s.id = i.id SET i.n = 0", []string{"shop.items"}},
		{"multi update schema qualified column", "UPDATE db.t1 JOIN t2 SET db.t1.a = 1", []string{"db.t1"}},
		{"multi update unqualified column lists every table", "UPDATE t1 JOIN t2 ON t1.id = t2.id SET a = 1", []string{"t1", "t2"}},
		{"multi update unqualified skips CTEs", "WITH c AS (SELECT 1 AS id) UPDATE t1 JOIN c ON c.id = t1.id SET a = 1", []string{"t1"}},
		{"multi update derived table is not a table", "UPDATE t1 JOIN (SELECT id FROM t2) AS d ON d.id = t1.id SET t1.a = 1", []string{"t1"}},
		{"multi update self join", "UPDATE t1 a JOIN t1 b ON a.p = b.id SET a.x = b.y", []string{"t1"}},
		{"update with CTE", "WITH s AS (SELECT id FROM orders) UPDATE orders SET x = 1 WHERE id IN (SELECT id FROM s)", []string{"orders"}},
		{"multi update parenthesised join", "UPDATE (t1 JOIN t2 ON t1.id = t2.id) JOIN t3 SET t2.a = 1, t3.b = 2", []string{"t2", "t3"}},
		{"multi delete parenthesised join", "DELETE a FROM (t1 AS a JOIN t2 ON a.id = t2.id) JOIN (t3) WHERE t3.x = 1", []string{"t1"}},
		{"delete single", "DELETE FROM `db`.`Sessions` WHERE 1", []string{"db.Sessions"}},
		{"delete alias", "DELETE FROM t AS a WHERE a.id = 1", []string{"t"}},
		{"multi delete before from", "DELETE t1 FROM t1 JOIN t2 ON t1.id = t2.id", []string{"t1"}},
		{"multi delete alias", "DELETE o FROM app.orders AS o LEFT JOIN app.customers AS c ON c.id = o.cid", []string{"app.orders"}},
		{"multi delete alias star", "DELETE o.* FROM orders o JOIN users u ON u.id = o.uid", []string{"orders"}},
		{"multi delete several", "DELETE t1, t2 FROM t1 JOIN t2 JOIN t3", []string{"t1", "t2"}},
		{"multi delete using", "DELETE FROM t1, t2 USING t1 JOIN t2 JOIN t3", []string{"t1", "t2"}},
		{"multi delete schema table", "DELETE db.t1 FROM db.t1 JOIN t2 ON t1.id = t2.id", []string{"db.t1"}},
		{"multi delete bare name of schema table", "DELETE t1 FROM db.t1 JOIN t2 ON t1.id = t2.id", []string{"db.t1"}},
		{"delete with recursive CTE", "WITH RECURSIVE sub AS (SELECT id FROM c UNION ALL SELECT c.id FROM c JOIN sub ON c.p = sub.id) DELETE c FROM c JOIN sub ON sub.id = c.id", []string{"c"}},
		{"truncate", "TRUNCATE TABLE `db`.`t`", []string{"db.t"}},
		{"load data", "LOAD DATA INFILE 'f' REPLACE INTO TABLE db.t", []string{"db.t"}},
		{"lock tables", "LOCK TABLES t1 WRITE, db.t2 READ", []string{"t1", "db.t2"}},
		{"create table", "CREATE TABLE t (a INT, b INT, FOREIGN KEY (b) REFERENCES p(id))", []string{"t"}},
		{"create table as select", "CREATE TABLE t2 AS SELECT * FROM t1", []string{"t2"}},
		{"create table like", "CREATE TABLE t3 LIKE t1", []string{"t3"}},
		{"alter table", "ALTER TABLE db.t ADD COLUMN c INT", []string{"db.t"}},
		{"alter table rename", "ALTER TABLE t RENAME TO t2", []string{"t", "t2"}},
		{"alter table foreign key", "ALTER TABLE t ADD FOREIGN KEY (b) REFERENCES p(id)", []string{"t"}},
		{"drop tables", "DROP TABLE IF EXISTS t1, db.t2", []string{"t1", "db.t2"}},
		{"rename tables", "RENAME TABLE t TO t_old, t_new TO t", []string{"t", "t_old", "t_new"}},
		{"create index", "CREATE INDEX i ON db.t (a)", []string{"db.t"}},
		{"drop index", "DROP INDEX i ON t", []string{"t"}},
		{"create view", "CREATE OR REPLACE VIEW v AS SELECT * FROM t", []string{"v"}},
		{"drop view", "DROP VIEW v1, db.v2", []string{"v1", "db.v2"}},
		{"create database", "CREATE DATABASE d", nil},
		{"procedure names no table", "CREATE PROCEDURE p() BEGIN INSERT INTO t VALUES (1); END", nil},
		{"select", "SELECT * FROM t FOR UPDATE", nil},
		{"call", "CALL p()", nil},
		{"analyze", "ANALYZE TABLE t", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			if got := tableStrings(st.Tables); !slices.Equal(got, tt.want) {
				t.Errorf("Tables = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFlagsMultiTableStatements(t *testing.T) {
	tests := []struct {
		sql   string
		multi bool
	}{
		{"UPDATE t SET a = 1", false},
		{"UPDATE t AS x SET x.a = 1", false},
		{"DELETE FROM t WHERE a = 1", false},
		{"DELETE FROM t AS x WHERE x.a = 1", false},
		{"UPDATE t1 JOIN t2 ON t1.id = t2.id SET t1.a = 1", true},
		{"UPDATE t1, t2 SET t1.a = 1", true},
		{"DELETE t1 FROM t1 JOIN t2", true},
		{"DELETE t1 FROM t1", true},
		{"DELETE FROM t1 USING t1", true},
		{"WITH c AS (SELECT 1) UPDATE t SET a = 1", true},
		{"WITH c AS (SELECT 1) DELETE FROM t", true},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if got := parseOne(t, tt.sql).MultiTable; got != tt.multi {
				t.Errorf("MultiTable = %v, want %v", got, tt.multi)
			}
		})
	}
}

func TestParseResolvesSetQualifiers(t *testing.T) {
	tests := []struct {
		sql  string
		want []Assignment
	}{
		{"UPDATE t SET a = 1, t.b = 2", []Assignment{
			{Column: "a", Value: Value{Kind: Literal, Literal: int64(1)}},
			{Table: "t", Column: "b", Value: Value{Kind: Literal, Literal: int64(2)}},
		}},
		{"UPDATE accounts AS a SET a.balance = a.balance - ?", []Assignment{
			{Table: "accounts", Column: "balance", Value: Value{Kind: Expr}},
		}},
		{"UPDATE orders o JOIN customers c ON o.cid = c.id SET o.d = c.d, c.n = ?", []Assignment{
			{Table: "orders", Column: "d", Value: Value{Kind: Expr}},
			{Table: "customers", Column: "n", Value: Value{Kind: Param, Param: 0}},
		}},
		{"UPDATE db.t1 JOIN t2 SET db.t1.a = 1", []Assignment{
			{Table: "t1", Column: "a", Value: Value{Kind: Literal, Literal: int64(1)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			if !reflect.DeepEqual(st.Set, tt.want) {
				t.Errorf("Set = %+v, want %+v", st.Set, tt.want)
			}
		})
	}
}
