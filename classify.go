package mysqletcd

import (
	"slices"
	"strings"
	"sync"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// plan is what the driver does around one statement text. Plans are built
// once per (default schema, text) and cached; they are immutable.
type plan struct {
	passThrough bool // reads, unmapped tables: nothing to do
	stmts       []stmtPlan
	// single is set when the text is one statement whose keys the driver
	// derives itself; multi-statement texts resync their tables instead.
	single bool
}

// stmtPlan is one statement's effect on the session.
type stmtPlan struct {
	kind           sqlparse.Kind
	implicitCommit bool // DDL, LOCK TABLES, BEGIN inside a transaction: commits first
	autocommit     bool // SetAutocommit: the new value
	unknownValue   bool // SetAutocommit to a non-constant value
	chain          bool // COMMIT/ROLLBACK AND CHAIN
	useSchema      string
	writes         []*tableWrite
	// rereadVars: a SET that may change a session variable capture relies
	// on (auto_increment_increment, sql_mode, the session's isolation).
	rereadVars bool
	temporary  bool   // CREATE/DROP TEMPORARY TABLE: no implicit commit
	xaOp       string // XA START, COMMIT or ROLLBACK
	prepares   string // the name an SQL-level PREPARE defines
	prepTables []*table
	executes   string // the name an SQL-level EXECUTE runs
	// nextWeakIsolation: SET TRANSACTION ISOLATION LEVEL READ
	// [UN]COMMITTED, for the next transaction only.
	nextWeakIsolation bool
}

// planCache maps statement texts to plans. It is bounded: when full it
// starts over, which costs re-parsing, never correctness.
type planCache struct {
	mu    sync.RWMutex
	plans map[planKey]*plan
	max   int
}

type planKey struct{ schema, text string }

func (c *planCache) get(schema, text string) (*plan, bool) {
	c.mu.RLock()
	p, ok := c.plans[planKey{schema, text}]
	c.mu.RUnlock()
	return p, ok
}

func (c *planCache) put(schema, text string, p *plan) {
	c.mu.Lock()
	if c.plans == nil || len(c.plans) >= c.max {
		c.plans = make(map[planKey]*plan)
	}
	c.plans[planKey{schema, text}] = p
	c.mu.Unlock()
}

var passThrough = &plan{passThrough: true}

// plan returns the cached plan of a statement text, building it on a miss.
func (st *catalog) plan(schema, text string) *plan {
	if p, ok := st.plans.get(schema, text); ok {
		return p
	}
	p := st.buildPlan(schema, text)
	st.plans.put(schema, text, p)
	return p
}

func (st *catalog) buildPlan(schema, text string) *plan {
	p := st.planText(schema, text)
	if fw := st.functionWrites(text); fw != nil {
		p = withFunctionWrites(p, fw)
	}
	return p
}

// withFunctionWrites adds to a plan the resyncs of the stored functions its
// text calls (routines.go).
func withFunctionWrites(p *plan, fw []*tableWrite) *plan {
	if p.passThrough {
		return &plan{single: true, stmts: []stmtPlan{{kind: sqlparse.Other, writes: fw}}}
	}
	out := *p
	out.stmts = slices.Clone(p.stmts)
	out.stmts[0].writes = append(slices.Clone(out.stmts[0].writes), fw...)
	return &out
}

func (st *catalog) planText(schema, text string) *plan {
	kw := firstKeyword(text)
	if readKeywords[kw] && strings.IndexByte(text, ';') < 0 {
		return passThrough
	}
	if sp, ok := st.planSessionStatement(kw, text, schema); ok {
		return &plan{single: true, stmts: []stmtPlan{sp}}
	}
	named := st.namedTables(text, schema)
	if len(named) == 0 && !controlKeywords[kw] && !st.namesCascadeParent(text) {
		return passThrough
	}
	stmts, err := sqlparse.Parse(text)
	if err != nil {
		sp := stmtPlan{kind: controlFallback(kw, text)}
		sp.implicitCommit = sp.kind == sqlparse.Begin || sp.kind == sqlparse.DDL
		switch {
		case sp.kind == sqlparse.Call:
			sp.writes = resyncAll(st.tableList, reasonTableLevel)
		case len(named) > 0:
			sp.writes = resyncAll(named, reasonUnparsed)
		}
		if sp.kind == sqlparse.Other && len(sp.writes) == 0 {
			return passThrough
		}
		return &plan{single: true, stmts: []stmtPlan{sp}}
	}
	p := &plan{single: len(stmts) == 1}
	for _, s := range stmts {
		p.stmts = append(p.stmts, st.planStatement(schema, s, p.single))
		if s.Kind == sqlparse.Use {
			schema = s.UseSchema // the text's later statements run in it
		}
	}
	switch kw {
	case "CREATE", "DROP":
		if hasWord(text, "TEMPORARY") {
			for i := range p.stmts {
				p.stmts[i].temporary = true
			}
		}
	case "XA":
		if len(p.stmts) > 0 {
			p.stmts[0].xaOp = xaOp(text)
		}
	}
	if lower := strings.ToLower(text); kw == "SET" && len(p.stmts) > 0 {
		last := &p.stmts[len(p.stmts)-1]
		iso := isolationChange(lower)
		last.rereadVars = strings.Contains(lower, "auto_increment") || strings.Contains(lower, "sql_mode") || iso == "session"
		last.nextWeakIsolation = iso == "next"
	}
	if p.nothingToDo() {
		return passThrough
	}
	return p
}

func (p *plan) nothingToDo() bool {
	for _, s := range p.stmts {
		if s.kind != sqlparse.Other || len(s.writes) > 0 || s.rereadVars || s.implicitCommit || s.nextWeakIsolation {
			return false
		}
	}
	return true
}

// planStatement decides how to capture one parsed statement.
func (st *catalog) planStatement(schema string, s sqlparse.Statement, single bool) stmtPlan {
	sp := stmtPlan{kind: s.Kind, chain: s.Chain, autocommit: s.Autocommit, unknownValue: s.AutocommitUnknown, useSchema: s.UseSchema}
	switch s.Kind {
	case sqlparse.DDL, sqlparse.LockTables, sqlparse.UnlockTables, sqlparse.Truncate, sqlparse.Begin:
		sp.implicitCommit = true // of the transaction that is open, if any
	}
	if s.Kind == sqlparse.Call {
		// A procedure may write any table, and its text names none.
		sp.writes = resyncAll(st.tableList, reasonTableLevel)
		return sp
	}
	var targets []*table
	var refs []string
	for _, tn := range s.Tables {
		if t := st.lookupTable(schema, tn); t != nil {
			targets, refs = append(targets, t), append(refs, tn.Ref)
		}
	}
	sp.writes = st.cascadeWrites(schema, s)
	if len(targets) == 0 {
		return sp
	}
	switch s.Kind {
	case sqlparse.Insert, sqlparse.Replace, sqlparse.Update, sqlparse.Delete:
		if !single {
			sp.writes = append(sp.writes, resyncAll(targets, reasonUnsupported)...)
			return sp
		}
		for i, t := range targets {
			sp.writes = append(sp.writes, planWrite(t, refs[i], s))
		}
	case sqlparse.Truncate, sqlparse.LoadData, sqlparse.Call, sqlparse.DDL:
		sp.writes = append(sp.writes, resyncAll(targets, reasonTableLevel)...)
	}
	return sp
}

// lookupTable finds the mapped table a statement names, or nil.
func (st *catalog) lookupTable(schema string, tn sqlparse.TableName) *table {
	if tn.Schema != "" {
		schema = tn.Schema
	}
	return st.tables[strings.ToLower(schema+"."+tn.Name)]
}

// namedTables lists the mapped tables whose name appears anywhere in the
// text. It over-reports (a column may share a table's name); that only
// costs a parse.
func (st *catalog) namedTables(text, schema string) []*table {
	var out []*table
	lower := ""
	for _, t := range st.tableList {
		if len(t.name) > len(text) {
			continue
		}
		if lower == "" {
			lower = strings.ToLower(text)
		}
		if strings.Contains(lower, strings.ToLower(t.name)) {
			out = append(out, t)
		}
	}
	return out
}

func resyncAll(tables []*table, reason string) []*tableWrite {
	out := make([]*tableWrite, len(tables))
	for i, t := range tables {
		out[i] = &tableWrite{t: t, how: captureResync, reason: reason}
	}
	return out
}

// controlFallback tells transaction control from the first keyword of a
// text the parser rejects (BEGIN WORK, COMMIT WORK, START TRANSACTION with
// several characteristics, REPAIR TABLE, ...), so the session still sees
// the boundary.
func controlFallback(kw, text string) sqlparse.Kind {
	switch kw {
	case "REPAIR", "CHECK", "OPTIMIZE", "ANALYZE", "CACHE", "RESET", "FLUSH":
		return sqlparse.DDL // statements that commit the open transaction
	case "LOAD":
		if hasWord(text, "INDEX") {
			return sqlparse.DDL
		}
	case "CREATE", "ALTER", "DROP", "RENAME":
		return sqlparse.DDL // CREATE OR REPLACE TABLE, CREATE FUNCTION, ...: they commit
	case "BEGIN":
		if words := strings.Fields(strings.ToUpper(strings.TrimRight(text, "; \t\n"))); len(words) <= 2 {
			return sqlparse.Begin // BEGIN [WORK]
		}
		return sqlparse.Call // BEGIN NOT ATOMIC ... END: a block, which may write any table
	case "START":
		return sqlparse.Begin
	case "COMMIT":
		return sqlparse.Commit
	case "ROLLBACK":
		if strings.Contains(strings.ToUpper(text), " TO ") {
			return sqlparse.RollbackTo
		}
		return sqlparse.Rollback
	}
	return sqlparse.Other
}

// firstKeyword returns the first word of the text, upper case, skipping
// white space, comments and opening parentheses.
func firstKeyword(text string) string {
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';':
			i++
		case c == '#' || (c == '-' && strings.HasPrefix(text[i:], "-- ")):
			j := strings.IndexByte(text[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j + 1
		case c == '/' && strings.HasPrefix(text[i:], "/*") && !strings.HasPrefix(text[i:], "/*!") && !strings.HasPrefix(text[i:], "/*M!"):
			j := strings.Index(text[i+2:], "*/")
			if j < 0 {
				return ""
			}
			i += j + 4
		default:
			j := i
			for j < len(text) && isWordByte(text[j]) {
				j++
			}
			return strings.ToUpper(text[i:j])
		}
	}
	return ""
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// readKeywords start statements that never write a table.
var readKeywords = map[string]bool{
	"SELECT": true, "SHOW": true, "DESC": true, "DESCRIBE": true, "EXPLAIN": true, "HELP": true,
}

// controlKeywords start statements that may end or start a transaction
// whatever table they name, so they are always parsed.
var controlKeywords = map[string]bool{
	"BEGIN": true, "START": true, "COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true, "RELEASE": true,
	"SET": true, "USE": true, "LOCK": true, "UNLOCK": true, "XA": true,
	"CREATE": true, "ALTER": true, "DROP": true, "RENAME": true, "TRUNCATE": true, "ANALYZE": true,
	"OPTIMIZE": true, "REPAIR": true, "GRANT": true, "REVOKE": true, "FLUSH": true, "INSTALL": true, "UNINSTALL": true,
	"CALL": true, "CHECK": true, "CACHE": true, "RESET": true, "LOAD": true,
	"PREPARE": true, "EXECUTE": true, "DEALLOCATE": true,
}

// planSessionStatement plans SQL-level PREPARE, EXECUTE and DEALLOCATE,
// whose effect depends on the session: EXECUTE names no table, so the
// session remembers what each PREPARE named.
func (st *catalog) planSessionStatement(kw, text, schema string) (stmtPlan, bool) {
	words := strings.Fields(strings.ToUpper(text))
	switch {
	case kw == "PREPARE" && len(words) > 1:
		sp := stmtPlan{kind: sqlparse.Other, prepares: statementName(text)}
		if !strings.Contains(text, "@") {
			sp.prepTables = st.namedTables(text, schema)
			for key, children := range st.cascades {
				if _, name, _ := strings.Cut(key, "."); hasWord(text, strings.ToUpper(name)) {
					sp.prepTables = appendTables(sp.prepTables, children)
				}
			}
		} else {
			sp.prepTables = st.tableList // FROM @var: any table
		}
		return sp, true
	case kw == "EXECUTE" && len(words) > 1:
		return stmtPlan{kind: sqlparse.Other, executes: statementName(text)}, true
	}
	return stmtPlan{}, false
}

// statementName is the name after the first keyword (PREPARE name ...),
// without quotes, lower case as MySQL compares them.
func statementName(text string) string {
	f := strings.Fields(strings.TrimSpace(text))
	if len(f) < 2 {
		return ""
	}
	return strings.ToLower(strings.Trim(f[1], "`;"))
}

// xaOp tells XA START (or BEGIN), COMMIT and ROLLBACK apart.
func xaOp(text string) string {
	f := strings.Fields(strings.ToUpper(text))
	if len(f) < 2 {
		return ""
	}
	switch f[1] {
	case "START", "BEGIN":
		return "START"
	case "COMMIT", "ROLLBACK":
		return f[1]
	}
	return ""
}

// hasWord reports whether the text holds word as a whole word, any case.
func hasWord(text, word string) bool {
	for _, f := range strings.FieldsFunc(strings.ToUpper(text), func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r == '_') }) {
		if f == word {
			return true
		}
	}
	return false
}

// isolationChange tells a SET that changes the isolation level (lower-case
// text): "session" (SET SESSION TRANSACTION ..., SET tx_isolation = ...),
// "next" (SET TRANSACTION ISOLATION LEVEL READ [UN]COMMITTED, for the next
// transaction only), or "".
func isolationChange(lower string) string {
	switch {
	case !strings.Contains(lower, "isolation"):
		return ""
	case strings.Contains(lower, "session") || strings.Contains(lower, "global") || !strings.Contains(lower, "transaction isolation"):
		return "session"
	case weakLevel(lower):
		return "next"
	}
	return ""
}

// appendTables appends the tables not yet in list.
func appendTables(list, more []*table) []*table {
	for _, t := range more {
		if !slices.Contains(list, t) {
			list = append(list, t)
		}
	}
	return list
}
