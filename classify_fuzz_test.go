package mysqletcd

import (
	"database/sql/driver"
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// planSchema is the default database of the DB-free state.
const planSchema = "app"

// newPlanState builds, without a database, the state bindSchema would build
// for four mapped tables of planSchema:
//
//   - users: the harness's users table (AUTO_INCREMENT id, unique name,
//     case-blind collation) mapped by id and by name, as usersMappings;
//   - kv: a VARCHAR primary key with a binary collation and no other
//     unique key (upserts whose conflicts the key pins);
//   - tags: a composite primary key of an INT UNSIGNED and a VARBINARY;
//   - slugs: mapped by a generated (implicit) unique column;
//
// one foreign-key cascade (writes to app.teams may change users) and one
// view over users (app.active_users); audit is not mapped. The tables are
// filled as loadTable and loadKeys would fill them, the mappings bound with
// newMapping and bind, then finished, so that buildPlan sees what it sees
// at run time.
func newPlanState(tb testing.TB) *catalog {
	tb.Helper()
	cfg := Config{
		FencePrefix: "/_f",
		MaxTxKeys:   10000,
		Tables: []Mapping{
			{Table: "users", Key: "/app/users/{id}", Value: JSONValue, Columns: []string{"id", "name", "email", "age"}, Where: "deleted_at IS NULL"},
			{Table: "users", Key: "/app/by-name/{name}", Value: ColumnValue("email")},
			{Table: "kv", Key: "/app/kv/{k}", Value: ColumnValue("v")},
			{Table: "app.tags", Key: "/app/tags/{tenant}/{tag}"},
			{Table: "slugs", Key: "/app/slugs/{slug}", Value: ColumnValue("title")},
		},
	}
	defs := map[string]*table{
		"users": planTable("users", []column{
			{name: "id", dataType: "bigint"},
			{name: "name", dataType: "varchar", collation: "utf8mb4_general_ci", maxLen: 64},
			{name: "email", dataType: "varchar", nullable: true, collation: "utf8mb4_general_ci", maxLen: 128},
			{name: "age", dataType: "int", nullable: true},
			{name: "deleted_at", dataType: "datetime", nullable: true},
		}, "id", true, []string{"id"}, []string{"name"}),
		"kv": planTable("kv", []column{
			{name: "k", dataType: "varchar", collation: "utf8mb4_bin", maxLen: 32},
			{name: "v", dataType: "varchar", collation: "utf8mb4_bin", maxLen: 64},
		}, "", true, []string{"k"}),
		"tags": planTable("tags", []column{
			{name: "tenant", dataType: "int", unsigned: true},
			{name: "tag", dataType: "varbinary", binary: true, maxLen: 16},
			{name: "note", dataType: "text", nullable: true, collation: "utf8mb4_general_ci", maxLen: 65535},
		}, "", true, []string{"tenant", "tag"}),
		"slugs": planTable("slugs", []column{
			{name: "id", dataType: "int"},
			{name: "title", dataType: "varchar", collation: "utf8mb4_general_ci", maxLen: 64},
			{name: "slug", dataType: "varchar", collation: "utf8mb4_bin", maxLen: 64, implicit: true},
		}, "id", true, []string{"id"}, []string{"slug"}),
	}
	st := &catalog{tables: map[string]*table{}, plans: planCache{max: 10000}}
	for i, mc := range cfg.Tables {
		m, err := newMapping(i, mc)
		if err != nil {
			tb.Fatal(err)
		}
		schema, name, ok := strings.Cut(mc.Table, ".")
		if !ok {
			schema, name = planSchema, mc.Table
		}
		key := strings.ToLower(schema + "." + name)
		t := st.tables[key]
		if t == nil {
			t = defs[name]
			st.tables[key] = t
			st.tableList = append(st.tableList, t)
		}
		if err := m.bind(t, cfg.FencePrefix); err != nil {
			tb.Fatal(err)
		}
		t.mappings = append(t.mappings, m)
	}
	for _, t := range st.tableList {
		t.finish()
	}
	users := st.tables[planSchema+".users"]
	st.cascades = map[string][]*table{planSchema + ".teams": {users}}
	st.views = map[string][]*table{planSchema + ".active_users": {users}}
	return st
}

// planTable is a table of planSchema as loadTable reads it: columns by
// name, the primary key first among the unique keys.
func planTable(name string, cols []column, autoInc string, transactional bool, primary []string, uniques ...[]string) *table {
	t := &table{schema: planSchema, name: name, columns: cols, byName: map[string]int{},
		primary: primary, uniques: append([][]string{primary}, uniques...), autoInc: autoInc, transactional: transactional}
	for i, c := range cols {
		t.byName[strings.ToLower(c.name)] = i
	}
	return t
}

// planArgSets are the args each fuzzed plan is resolved with: none, exact
// integers, text (exact, padded, decimal, other case), and odd driver
// values. The fuzzer adds one set of its own.
var planArgSets = [][]driver.NamedValue{
	nil,
	namedArgs(int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8)),
	namedArgs("1", "bob", "7.0", " 7", "BOB ", "x", "", "0x7"),
	namedArgs(float64(7.5), []byte("ab"), nil, uint64(1<<63+5), true, time.Time{}, float32(1.5), int64(0)),
}

func namedArgs(vals ...any) []driver.NamedValue {
	out := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// planHandWritten are statements the corpus lacks: the forms of the
// capture table in docs/design.md on the mapped tables, and texts that
// have tripped planners before.
var planHandWritten = []string{
	"INSERT INTO users (id, name, email) VALUES (?, ?, ?)",
	"INSERT INTO users (name, email) VALUES (?, ?)",
	"INSERT INTO users (name) VALUES ('a'), ('b'), ('c')",
	"INSERT INTO users (id, name) VALUES (0, 'zero'), (NULL, 'null'), (DEFAULT, 'default')",
	"UPDATE users SET email = ? WHERE id = ? AND name = ?",
	"UPDATE users SET email = ? WHERE id = ?",
	"DELETE FROM users WHERE id = ? AND name = ?",
	"DELETE FROM users WHERE id = 7 AND name = 'BOB'",
	"UPDATE users SET age = age + 1 WHERE email LIKE ? ORDER BY id LIMIT 10",
	"DELETE FROM users WHERE age > ? ORDER BY name DESC LIMIT 2",
	"UPDATE users SET id = ?, name = ? WHERE id = ?",
	"UPDATE users SET id = id + 1000 WHERE id > 100",
	"UPDATE users SET name = CONCAT(name, '!') WHERE id = 1",
	"INSERT INTO kv (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)",
	"INSERT INTO kv (k, v) VALUES ('a ', 'x'), (?, ?) ON DUPLICATE KEY UPDATE v = CONCAT(v, '+')",
	"REPLACE INTO kv VALUES (?, ?)",
	"INSERT INTO users (id, name, email) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE email = VALUES(email)",
	"INSERT INTO users (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
	"REPLACE INTO users (id, name, email) VALUES (?, ?, ?)",
	"REPLACE INTO users SET id = 7, name = 'b2'",
	"INSERT INTO users (id, name) SELECT id + 100, name FROM audit",
	"UPDATE users u JOIN audit a ON a.id = u.id SET u.email = a.note",
	"DELETE u FROM users u JOIN audit a ON a.id = u.id WHERE a.id = ?",
	"DELETE FROM users USING users JOIN audit ON audit.id = users.id",
	"UPDATE users a JOIN users b ON b.id = a.id + 1 SET b.age = 5",
	"UPDATE app.users SET email = 'q' WHERE id = 7",
	"UPDATE `app`.`USERS` SET email = 'q' WHERE `ID` = 7",
	"INSERT INTO tags (tenant, tag) VALUES (?, ?)",
	"UPDATE tags SET note = ? WHERE tenant = ? AND tag = ?",
	"DELETE FROM tags WHERE tenant = 1 AND tag = x'00ff'",
	"UPDATE tags SET tag = ? WHERE tenant = ? LIMIT 1",
	"DELETE FROM teams WHERE id = 3",
	"WITH x AS (SELECT id FROM audit) UPDATE users SET age = 1 WHERE id IN (SELECT id FROM x)",
	"UPDATE users SET email = 'x' WHERE id = 1; DELETE FROM users WHERE id = 2",
	"UPDATE active_users SET email = 'v' WHERE id = 1",
	"INSERT INTO app.active_users (id, name) VALUES (1, 'v')",
	"UPDATE teams SET id = 4 WHERE id = 3",
	"INSERT INTO teams (id) VALUES (1) ON DUPLICATE KEY UPDATE id = 2",
	"UPDATE slugs SET title = ? WHERE id = ?",
	"DELETE FROM slugs WHERE slug = ?",
	"INSERT INTO slugs (id, title) VALUES (?, ?)",
	"RENAME TABLE users TO users_old, users_new TO users",
	"TRUNCATE users",
	"LOAD DATA INFILE '/tmp/u' INTO TABLE users",
	"CALL refresh_users()",
	"ALTER TABLE users ADD COLUMN x INT",
	"INSERT INTO audit (note) VALUES ('users')",
	"UPDATE audit SET note = 'x' WHERE id = 1",
	"SELECT * FROM users WHERE id = ?",
	"BEGIN; UPDATE users SET age = 1; COMMIT",
	"PREPARE s FROM 'UPDATE users SET age = 2'",
	"EXECUTE s",
	"XA START 'x'",
	"LOCK TABLES users WRITE",
	"SET autocommit = 0",
	"INSERT INTO users PARTITION (p0) (id, name) VALUES (1, 'p')",
	"UPDATE users PARTITION (p0) SET age = 1 WHERE name = ?",
	"INSERT INTO users (id, name) VALUES (1, 'a') AS new ON DUPLICATE KEY UPDATE email = new.name",
	"INSERT INTO users SET id = 1, name = 'a' ON DUPLICATE KEY UPDATE age = age + 1",
	"UPDATE users SET email = NULL WHERE id = 1 OR id = 2",
	"DELETE FROM users WHERE (id, name) = (1, 'a')",
	"UPDATE users SET age = 1 WHERE id = 9223372036854775808",
	"DELETE FROM users WHERE id = 0x10",
	"DELETE FROM users WHERE id = '7.0'",
	"/* c */ UPDATE users SET age = 1 WHERE id = 1",
	"/*!40000 UPDATE users SET age = 1 WHERE id = 1 */",
}

// planCorpus reads the parser's corpus of write statements, split on its
// "-- @@" headers, and rewrites each table it names into users, so that
// every form of the corpus becomes a write to a mapped table.
func planCorpus(tb testing.TB) []string {
	tb.Helper()
	data, err := os.ReadFile("internal/sqlparse/testdata/mysql-writes.sql")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	var tables []string
	var text []string
	flush := func() {
		if len(text) == 0 {
			return
		}
		sql := strings.TrimSpace(strings.Join(text, "\n"))
		text = text[:0]
		if sql == "" {
			return
		}
		out = append(out, sql, renameTables(sql, tables))
	}
	for _, line := range strings.Split(string(data), "\n") {
		header, ok := strings.CutPrefix(line, "-- @@ ")
		if !ok {
			if tables != nil {
				text = append(text, line)
			}
			continue
		}
		flush()
		tables = []string{}
		if f := strings.Split(header, "|"); len(f) == 4 {
			for _, list := range strings.Split(f[2], ";") {
				for _, name := range strings.Split(list, ",") {
					if name = strings.TrimSpace(name); name != "" && name != "*" {
						tables = append(tables, name)
					}
				}
			}
		}
	}
	flush()
	return out
}

// renameTables replaces each named table (quoted or not, qualified or not)
// with users.
func renameTables(sql string, tables []string) string {
	for _, name := range tables {
		var pat string
		if schema, tbl, ok := strings.Cut(name, "."); ok {
			pat = "(?i)`?\\b" + regexp.QuoteMeta(schema) + "\\b`?\\s*\\.\\s*`?\\b" + regexp.QuoteMeta(tbl) + "\\b`?"
		} else {
			pat = "(?i)`?\\b" + regexp.QuoteMeta(name) + "\\b`?"
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			continue
		}
		sql = re.ReplaceAllString(sql, "users")
	}
	return sql
}

// planResult stands in for the driver.Result of an executed write.
type planResult struct{ id int64 }

func (r planResult) LastInsertId() (int64, error) {
	if r.id < 0 {
		return 0, errors.New("no id")
	}
	return r.id, nil
}
func (r planResult) RowsAffected() (int64, error) { return 1, nil }

// FuzzPlan plans arbitrary statement texts against the DB-free state, then
// resolves the plans for several sets of args and runs the capture steps
// that need no server (values, conflict and after-image queries, keys).
// Properties: nothing panics; and a text that parses as one INSERT,
// REPLACE, UPDATE or DELETE of a mapped table gets a write for that table
// in its plan (a resync counts), before and after resolving the args.
//
//	go test -run '^$' -fuzz '^FuzzPlan$' -fuzztime 5m .
func FuzzPlan(f *testing.F) {
	for _, sql := range planHandWritten {
		f.Add(sql, int64(7), "bob")
	}
	for _, sql := range planCorpus(f) {
		f.Add(sql, int64(1), "a")
	}
	st := newPlanState(f)
	f.Fuzz(func(t *testing.T, text string, n int64, s string) {
		p := st.buildPlan(planSchema, text)
		if p == nil {
			t.Fatalf("buildPlan(%q) returned nil", text)
		}
		want := mappedWriteTargets(st, text)
		for _, tb := range want {
			if !planWrites(p, tb) {
				t.Fatalf("%q writes mapped table %s but its plan has no write for it (passThrough=%v)", text, tb.qualified(), p.passThrough)
			}
		}
		if p.passThrough {
			return
		}
		sets := append(planArgSets[:len(planArgSets):len(planArgSets)], namedArgs(n, s, n, s, float64(n)/2, []byte(s), n, s))
		for _, args := range sets {
			rp := p.forArgs(args)
			if rp == nil {
				t.Fatalf("forArgs of %q returned nil", text)
			}
			for _, tb := range want {
				if !planWrites(rp, tb) {
					t.Fatalf("%q with args %v: the resolved plan lost the write to %s", text, args, tb.qualified())
				}
			}
			for _, sp := range rp.stmts {
				for _, w := range sp.writes {
					exerciseWrite(w, args)
				}
			}
		}
	})
}

// mappedWriteTargets lists the mapped tables that the text, parsed as one
// statement, writes: the mapped targets of an INSERT, REPLACE, UPDATE or
// DELETE (and of TRUNCATE, LOAD DATA and DDL), the mapped tables under a
// view it writes through, and those a foreign key cascades into from a
// parent that an UPDATE, DELETE, REPLACE or upsert writes.
func mappedWriteTargets(st *catalog, text string) []*table {
	stmts, err := sqlparse.Parse(text)
	if err != nil || len(stmts) != 1 {
		return nil
	}
	s := stmts[0]
	cascades := false
	switch s.Kind {
	case sqlparse.Update, sqlparse.Delete, sqlparse.Replace:
		cascades = true
	case sqlparse.Insert:
		cascades = len(s.OnDuplicate) > 0
	case sqlparse.Truncate, sqlparse.LoadData, sqlparse.DDL:
	default:
		return nil
	}
	var out []*table
	for _, tn := range s.Tables {
		if t := st.lookupTable(planSchema, tn); t != nil {
			out = appendTables(out, []*table{t})
		}
		schema := planSchema
		if tn.Schema != "" {
			schema = tn.Schema
		}
		key := strings.ToLower(schema + "." + tn.Name)
		if s.Kind != sqlparse.Truncate && s.Kind != sqlparse.DDL {
			out = appendTables(out, st.views[key])
		}
		if cascades {
			out = appendTables(out, st.cascades[key])
		}
	}
	return out
}

func planWrites(p *plan, t *table) bool {
	for _, sp := range p.stmts {
		for _, w := range sp.writes {
			if w != nil && w.t == t {
				return true
			}
		}
	}
	return false
}

// exerciseWrite runs the parts of a write's capture that need no server,
// with the args and made-up results and row images.
func exerciseWrite(w *tableWrite, args []driver.NamedValue) {
	for _, ai := range []autoIncrement{{lockMode: 1, increment: 1}, {lockMode: 2, increment: 2, noAutoOnZero: true}} {
		var c capture
		if w.conflicts {
			w.conflictQuery(args, ai)
		}
		switch w.how {
		case captureValues:
			for _, res := range []driver.Result{planResult{41}, planResult{-1}, nil} {
				if imgs, ok := w.valueImages(args, res, ai); ok {
					c.addImages(w.t, imgs)
				}
			}
		case captureBefore:
			pickArgs(args, w.beforeParams)
			pickArgs(args, w.rerunParams)
			before := make([][]any, 2)
			for i := range before {
				before[i] = make([]any, len(w.t.idCols)+len(w.digestCols))
				for j := range before[i] {
					before[i][j] = int64(i + j)
				}
			}
			pickArgs(args, w.digestedParams)
			if win := w.window; win != nil {
				win.limit(args)
				bindArgs(args, win.tieParams, make([]any, len(win.keys)))
				bindArgs(args, win.tieDigestedParams, make([]any, len(win.keys)))
				for i := range before {
					before[i] = slices.Insert(before[i], len(w.t.idCols), make([]any, len(win.keys))...)
					win.tieValues(win.values(w, before[i]))
				}
			}
			c.addImages(w.t, before)
			w.lookupQuery(before)
			w.changed(before[0], map[string][]any{w.t.rowKey(before[1]): before[1][len(before[1])-len(w.digestCols):]})
			if w.after {
				w.exactMoves(args)
				w.afterQuery(args, before)
			}
		}
	}
}

// TestPlanSeedsWriteMappedTables keeps FuzzPlan's seeds meaningful: most of
// the rewritten corpus must be writes to a mapped table, each planned with
// a write for it.
func TestPlanSeedsWriteMappedTables(t *testing.T) {
	st := newPlanState(t)
	seeds := append(planCorpus(t), planHandWritten...)
	mapped := 0
	kinds := map[captureKind]int{}
	for _, sql := range seeds {
		targets := mappedWriteTargets(st, sql)
		if len(targets) == 0 {
			continue
		}
		mapped++
		p := st.buildPlan(planSchema, sql)
		for _, tb := range targets {
			if !planWrites(p, tb) {
				t.Errorf("%q: no write for %s", sql, tb.qualified())
			}
		}
		for _, sp := range p.stmts {
			for _, w := range sp.writes {
				kinds[w.how]++
			}
		}
	}
	t.Logf("%d seeds, %d single writes to a mapped table; writes planned: %d resync, %d values, %d before-image",
		len(seeds), mapped, kinds[captureResync], kinds[captureValues], kinds[captureBefore])
	if mapped < len(seeds)/3 {
		t.Errorf("only %d of %d seeds write a mapped table: the corpus rewrite is broken", mapped, len(seeds))
	}
}
