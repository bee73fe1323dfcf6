package sqlparse

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
)

func TestParseMapsStatementsToKinds(t *testing.T) {
	tests := []struct {
		sql  string
		want []Kind
	}{
		{"INSERT INTO t VALUES (1)", []Kind{Insert}},
		{"REPLACE INTO t VALUES (1)", []Kind{Replace}},
		{"UPDATE t SET a = 1", []Kind{Update}},
		{"DELETE FROM t", []Kind{Delete}},
		{"BEGIN", []Kind{Begin}},
		{"START TRANSACTION READ ONLY", []Kind{Begin}},
		{"COMMIT", []Kind{Commit}},
		{"ROLLBACK", []Kind{Rollback}},
		{"SAVEPOINT sp", []Kind{Savepoint}},
		{"ROLLBACK TO SAVEPOINT sp", []Kind{RollbackTo}},
		{"RELEASE SAVEPOINT sp", []Kind{Release}},
		{"SET autocommit = 0", []Kind{SetAutocommit}},
		{"CREATE TABLE t (a INT)", []Kind{DDL}},
		{"ALTER TABLE t ADD COLUMN b INT", []Kind{DDL}},
		{"DROP TABLE t", []Kind{DDL}},
		{"RENAME TABLE a TO b", []Kind{DDL}},
		{"CREATE INDEX i ON t (a)", []Kind{DDL}},
		{"DROP INDEX i ON t", []Kind{DDL}},
		{"CREATE VIEW v AS SELECT 1", []Kind{DDL}},
		{"DROP VIEW v", []Kind{DDL}},
		{"CREATE DATABASE d", []Kind{DDL}},
		{"DROP DATABASE d", []Kind{DDL}},
		{"CREATE PROCEDURE p() BEGIN SELECT 1; END", []Kind{DDL}},
		{"DROP PROCEDURE p", []Kind{DDL}},
		{"CREATE USER u", []Kind{DDL}},
		{"GRANT SELECT ON d.* TO u", []Kind{DDL}},
		{"REVOKE SELECT ON d.* FROM u", []Kind{DDL}},
		{"ANALYZE TABLE t", []Kind{DDL}},
		{"FLUSH TABLES", []Kind{DDL}},
		{"TRUNCATE t", []Kind{Truncate}},
		{"LOAD DATA INFILE 'f' INTO TABLE t", []Kind{LoadData}},
		{"CALL p(1)", []Kind{Call}},
		{"LOCK TABLES t WRITE", []Kind{LockTables}},
		{"UNLOCK TABLES", []Kind{UnlockTables}},
		{"USE d", []Kind{Use}},
		{"XA START 'x'", []Kind{XA}},
		{"SELECT * FROM t FOR UPDATE", []Kind{Other}},
		{"SHOW TABLES", []Kind{Other}},
		{"SET NAMES utf8mb4", []Kind{Other}},
		{"SET sql_mode = ''", []Kind{Other}},
		{"DO 1", []Kind{Other}},
		{"BEGIN; INSERT INTO t VALUES (1); COMMIT", []Kind{Begin, Insert, Commit}},
		{"INSERT INTO t VALUES (1);;", []Kind{Insert}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			stmts, err := Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := kinds(stmts); !slices.Equal(got, tt.want) {
				t.Errorf("kinds = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseReadsTransactionControlDetails(t *testing.T) {
	tests := []struct {
		sql  string
		want Statement
	}{
		{"COMMIT AND CHAIN", Statement{Kind: Commit, Chain: true}},
		{"COMMIT AND NO CHAIN", Statement{Kind: Commit}},
		{"ROLLBACK AND CHAIN", Statement{Kind: Rollback, Chain: true}},
		{"SAVEPOINT `Sp 1`", Statement{Kind: Savepoint, SavepointName: "Sp 1"}},
		{"ROLLBACK TO sp1", Statement{Kind: RollbackTo, SavepointName: "sp1"}},
		{"ROLLBACK TO SAVEPOINT sp1", Statement{Kind: RollbackTo, SavepointName: "sp1"}},
		{"RELEASE SAVEPOINT sp1", Statement{Kind: Release, SavepointName: "sp1"}},
		{"USE `app`", Statement{Kind: Use, UseSchema: "app"}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if got := parseOne(t, tt.sql); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseReadsAutocommitValue(t *testing.T) {
	tests := []struct {
		sql         string
		kind        Kind
		on, unknown bool
	}{
		{"SET autocommit = 0", SetAutocommit, false, false},
		{"SET autocommit=1", SetAutocommit, true, false},
		{"SET @@autocommit = 1", SetAutocommit, true, false},
		{"SET @@session.autocommit = OFF", SetAutocommit, false, false},
		{"SET SESSION autocommit = ON", SetAutocommit, true, false},
		{"SET LOCAL autocommit = off", SetAutocommit, false, false},
		{"SET autocommit = true", SetAutocommit, true, false},
		{"SET autocommit = FALSE", SetAutocommit, false, false},
		{"SET autocommit = 'on'", SetAutocommit, true, false},
		{"SET AUTOCOMMIT = 1", SetAutocommit, true, false},
		{"SET autocommit = ?", SetAutocommit, false, true},
		{"SET autocommit = @v", SetAutocommit, false, true},
		{"SET autocommit = DEFAULT", SetAutocommit, false, true},
		{"SET autocommit = 2", SetAutocommit, false, true},
		{"SET autocommit = 1 - 1", SetAutocommit, false, true},
		{"SET autocommit = 'maybe'", SetAutocommit, false, true},
		{"SET sql_mode = '', autocommit = 0", SetAutocommit, false, false},
		{"SET autocommit = 0, autocommit = 1", SetAutocommit, true, false},
		{"SET autocommit = ?, autocommit = 1", SetAutocommit, true, false},
		// Only the session's own autocommit matters.
		{"SET GLOBAL autocommit = 0", Other, false, false},
		{"SET @@global.autocommit = 0", Other, false, false},
		{"SET @autocommit = 0", Other, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			st := parseOne(t, tt.sql)
			if st.Kind != tt.kind || st.Autocommit != tt.on || st.AutocommitUnknown != tt.unknown {
				t.Errorf("got Kind %v Autocommit %v AutocommitUnknown %v, want %v %v %v",
					st.Kind, st.Autocommit, st.AutocommitUnknown, tt.kind, tt.on, tt.unknown)
			}
		})
	}
}

func TestParseRecognisesTransactionStatementsTheGrammarLacks(t *testing.T) {
	tests := []struct {
		sql  string
		want Statement
	}{
		{"BEGIN WORK", Statement{Kind: Begin}},
		{"commit work", Statement{Kind: Commit}},
		{"COMMIT WORK AND CHAIN", Statement{Kind: Commit, Chain: true}},
		{"ROLLBACK WORK", Statement{Kind: Rollback}},
		{"/* c */ ROLLBACK WORK TO SAVEPOINT sp", Statement{Kind: RollbackTo, SavepointName: "sp"}},
		{"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE", Statement{Kind: Begin}},
		{"start transaction read only , with  consistent snapshot;", Statement{Kind: Begin}},
		{"XA START 'trx1'", Statement{Kind: XA}},
		{"xa end 'trx1';", Statement{Kind: XA}},
		{"-- c\nXA PREPARE 'trx1'", Statement{Kind: XA}},
		{"XA COMMIT 'trx1' ONE PHASE", Statement{Kind: XA}},
		{"XA ROLLBACK 'trx1'", Statement{Kind: XA}},
		{"XA RECOVER", Statement{Kind: XA}},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if got := parseOne(t, tt.sql); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseWorkKeepsPlaceholderIndices(t *testing.T) {
	stmts, err := Parse("BEGIN WORK; UPDATE t SET a = ? WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(stmts); !slices.Equal(got, []Kind{Begin, Update}) {
		t.Fatalf("kinds = %v", got)
	}
	if got := stmts[1].Where.Params; !slices.Equal(got, []int{1}) {
		t.Errorf("Where.Params = %v, want [1]", got)
	}
}

func TestParseRejectsInvalidText(t *testing.T) {
	for _, sql := range []string{
		"UPDATE",
		"INSERT INTO t VALUES (",
		"SELEC 1",
		"XA START 'a'; COMMIT",
		"XA DANCE",
		"START TRANSACTION, READ WRITE",
		"START TRANSACTION READ SOMETIMES",
		"BEGIN WORK WORK",
		"COMMIT; COMMIT WORK",
		"INSERT INTO t (a) VALUES (1) AS new ON DUPLICATE KEY UPDATE a = new.a",
	} {
		t.Run(sql, func(t *testing.T) {
			if stmts, err := Parse(sql); err == nil {
				t.Errorf("Parse = %+v, want an error", stmts)
			}
		})
	}
}

func TestParseReturnsNothingForEmptyText(t *testing.T) {
	for _, sql := range []string{"", "  ", ";", "/* only a comment */", "-- c\n"} {
		stmts, err := Parse(sql)
		if err != nil || len(stmts) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want nothing", sql, stmts, err)
		}
	}
}

func TestParseIsSafeForConcurrentUse(t *testing.T) {
	entries := readCorpus(t)
	want := make([][]Statement, len(entries))
	for i, e := range entries {
		want[i], _ = Parse(e.sql)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for round := range 5 {
				for i := range entries {
					// Each goroutine walks the corpus from another place.
					j := (i + g*7 + round) % len(entries)
					got, _ := Parse(entries[j].sql)
					if !reflect.DeepEqual(got, want[j]) {
						t.Errorf("concurrent Parse(%q) = %+v, want %+v", entries[j].sql, got, want[j])
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

func TestKindStringNamesEveryKind(t *testing.T) {
	for k := Other; k <= XA; k++ {
		if !k.Valid() || k.String() == "" {
			t.Errorf("Kind %d has no name", int(k))
		}
	}
	if (XA + 1).Valid() {
		t.Errorf("Kind(%d) is valid", int(XA+1))
	}
	if got := Kind(-1).String(); got != "Kind(-1)" {
		t.Errorf("Kind(-1).String() = %q", got)
	}
}

func TestParseErrorsWrapTheCause(t *testing.T) {
	_, err := Parse("UPDATE")
	if err == nil || errors.Unwrap(err) == nil {
		t.Errorf("Parse error %v does not wrap the parser's error", err)
	}
}
