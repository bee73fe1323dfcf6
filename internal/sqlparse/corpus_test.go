package sqlparse

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const corpusFile = "testdata/mysql-writes.sql"

// corpusEntry is one statement text of the corpus with what it should parse
// to; kinds, tables and details hold one item per statement of the text.
type corpusEntry struct {
	line     int
	category string
	kinds    []string
	tables   []string
	details  []string
	sql      string
}

func (e corpusEntry) String() string { return fmt.Sprintf("%s:%d %q", e.category, e.line, e.sql) }

// readCorpus reads the entries: a header "-- @@ <category> | <kinds> |
// <tables> | <detail>" followed by the statement text up to the next header.
func readCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	data, err := os.ReadFile(corpusFile)
	if err != nil {
		t.Fatal(err)
	}
	var entries []corpusEntry
	var text []string
	flush := func() {
		if len(entries) > 0 {
			entries[len(entries)-1].sql = strings.TrimRight(strings.Join(text, "\n"), "\n")
		}
		text = text[:0]
	}
	for i, line := range strings.Split(string(data), "\n") {
		header, ok := strings.CutPrefix(line, "-- @@ ")
		if !ok {
			if len(entries) > 0 {
				text = append(text, line)
			}
			continue
		}
		flush()
		f := strings.Split(header, "|")
		if len(f) != 4 {
			t.Fatalf("%s:%d: header has %d fields, want 4", corpusFile, i+1, len(f))
		}
		entries = append(entries, corpusEntry{
			line:     i + 1,
			category: strings.TrimSpace(f[0]),
			kinds:    strings.Split(strings.TrimSpace(f[1]), ";"),
			tables:   strings.Split(strings.TrimSpace(f[2]), ";"),
			details:  strings.Split(strings.TrimSpace(f[3]), ";"),
		})
	}
	flush()
	return entries
}

// corpusKinds maps the corpus's kind names. SET is special: see corpusKind.
var corpusKinds = map[string]Kind{
	"INSERT":      Insert,
	"REPLACE":     Replace,
	"UPDATE":      Update,
	"DELETE":      Delete,
	"BEGIN":       Begin,
	"COMMIT":      Commit,
	"ROLLBACK":    Rollback,
	"SAVEPOINT":   Savepoint,
	"ROLLBACK_TO": RollbackTo,
	"RELEASE":     Release,
	"DDL":         DDL,
	"TRUNCATE":    Truncate,
	"LOAD":        LoadData,
	"CALL":        Call,
	"LOCK":        LockTables,
	"UNLOCK":      UnlockTables,
	"USE":         Use,
	"XA":          XA,
	"SELECT":      Other,
}

// corpusKind is the Kind expected for a corpus kind name. The corpus calls
// every SET statement SET; only those of autocommit are SetAutocommit, the
// others (isolation level, names) are Other.
func corpusKind(name, sql string) (Kind, error) {
	if name == "SET" {
		if strings.Contains(strings.ToLower(sql), "autocommit") {
			return SetAutocommit, nil
		}
		return Other, nil
	}
	k, ok := corpusKinds[name]
	if !ok {
		return 0, fmt.Errorf("unknown corpus kind %q", name)
	}
	return k, nil
}

// corpusKnownFailures are the corpus statements the parser rejects, with why.
var corpusKnownFailures = map[string]string{
	"INSERT INTO t (a, b, c) VALUES (1, 2, 3), (4, 5, 6) AS new ON DUPLICATE KEY UPDATE c = new.a + new.b":              "no INSERT ... AS alias (MySQL 8.0.19)",
	"INSERT INTO t (a, b, c) VALUES (1, 2, 3) AS new(m, n, p) ON DUPLICATE KEY UPDATE c = m + n":                        "no INSERT ... AS alias (MySQL 8.0.19)",
	"INSERT INTO `users` (`id`, `name`) VALUES (?, ?) AS `excluded` ON DUPLICATE KEY UPDATE `name` = `excluded`.`name`": "no INSERT ... AS alias (MySQL 8.0.19)",
	"INSERT INTO t SET a = 1, b = 2 AS new ON DUPLICATE KEY UPDATE b = new.a + new.b":                                   "no INSERT ... AS alias (MySQL 8.0.19)",
}

func TestParseCorpus(t *testing.T) {
	entries := readCorpus(t)
	if len(entries) == 0 {
		t.Fatal("empty corpus")
	}
	parsed, matched := 0, 0
	for _, e := range entries {
		stmts, err := Parse(e.sql)
		_, known := corpusKnownFailures[e.sql]
		switch {
		case err != nil && known:
			continue
		case err != nil:
			t.Errorf("%v: %v", e, err)
			continue
		case known:
			t.Errorf("%v parses now: drop it from corpusKnownFailures", e)
		}
		parsed++
		if problems := checkCorpusEntry(e, stmts); len(problems) > 0 {
			t.Errorf("%v:\n\t%s", e, strings.Join(problems, "\n\t"))
			continue
		}
		matched++
		for _, st := range stmts {
			if st.Kind == Update || st.Kind == Delete {
				checkSelectFor(t, st)
			}
		}
		checkParamsBind(t, e.sql)
	}
	t.Logf("corpus: %d entries, %d parse (%.1f%%), %d of those match (%.1f%%)",
		len(entries), parsed, 100*float64(parsed)/float64(len(entries)),
		matched, 100*float64(matched)/float64(parsed))
}

// checkCorpusEntry lists how stmts differ from what e expects.
func checkCorpusEntry(e corpusEntry, stmts []Statement) []string {
	if len(stmts) != len(e.kinds) {
		return []string{fmt.Sprintf("%d statements, want %d", len(stmts), len(e.kinds))}
	}
	var problems []string
	for i, st := range stmts {
		want, err := corpusKind(strings.TrimSpace(e.kinds[i]), e.sql)
		if err != nil {
			problems = append(problems, err.Error())
		} else if st.Kind != want {
			problems = append(problems, fmt.Sprintf("statement %d: Kind %v, want %v", i, st.Kind, want))
		}
		if i < len(e.tables) {
			if p := checkCorpusTables(strings.TrimSpace(e.tables[i]), st.Tables); p != "" {
				problems = append(problems, fmt.Sprintf("statement %d: %s", i, p))
			}
		}
		if i < len(e.details) {
			if p := checkCorpusDetail(strings.TrimSpace(e.details[i]), st); p != "" {
				problems = append(problems, fmt.Sprintf("statement %d: %s", i, p))
			}
		}
	}
	return problems
}

// checkCorpusTables compares tables, ignoring case and order, with a corpus
// list: '*' is not checked, empty means none.
func checkCorpusTables(want string, tables []TableName) string {
	if want == "*" {
		return ""
	}
	var w []string
	if want != "" {
		w = strings.Split(want, ",")
	}
	got := tableStrings(tables)
	for i := range got {
		got[i] = strings.ToLower(got[i])
	}
	for i := range w {
		w[i] = strings.ToLower(strings.TrimSpace(w[i]))
	}
	slices.Sort(got)
	slices.Sort(w)
	if !slices.Equal(got, w) {
		return fmt.Sprintf("Tables %q, want %q", got, w)
	}
	return ""
}

// checkCorpusDetail checks "cols=N rows=M", "cols=N select", "where?N" and
// "nowhere"; empty or '*' is not checked.
func checkCorpusDetail(want string, st Statement) string {
	switch {
	case want == "" || want == "*":
		return ""
	case want == "nowhere":
		if st.Where != nil {
			return fmt.Sprintf("Where %q, want none", st.Where.SQL)
		}
		return ""
	case strings.HasPrefix(want, "where?"):
		n, err := strconv.Atoi(strings.TrimPrefix(want, "where?"))
		if err != nil {
			return fmt.Sprintf("bad detail %q", want)
		}
		if st.Where == nil {
			return "no Where, want one"
		}
		if len(st.Where.Params) != n {
			return fmt.Sprintf("Where %q has %d params, want %d", st.Where.SQL, len(st.Where.Params), n)
		}
		return ""
	case strings.HasPrefix(want, "cols="):
		var cols, rows int
		if _, err := fmt.Sscanf(want, "cols=%d select", &cols); err == nil && strings.HasSuffix(want, " select") {
			if len(st.Columns) != cols || !st.Select || len(st.Rows) != 0 {
				return fmt.Sprintf("%d columns, Select %v, %d rows; want %s", len(st.Columns), st.Select, len(st.Rows), want)
			}
			return ""
		}
		if _, err := fmt.Sscanf(want, "cols=%d rows=%d", &cols, &rows); err != nil {
			return fmt.Sprintf("bad detail %q", want)
		}
		if len(st.Columns) != cols || len(st.Rows) != rows || st.Select {
			return fmt.Sprintf("%d columns, %d rows, Select %v; want %s", len(st.Columns), len(st.Rows), st.Select, want)
		}
		for i, r := range st.Rows {
			if cols > 0 && len(r) != cols {
				return fmt.Sprintf("row %d has %d values, want %d", i, len(r), cols)
			}
		}
		return ""
	}
	return fmt.Sprintf("bad detail %q", want)
}
