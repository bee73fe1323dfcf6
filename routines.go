package mysqletcd

import (
	"context"
	"database/sql"
	"strings"
)

// A stored function can write tables, and a SELECT, DO or SET that calls it
// names none of them. The driver reads the stored functions at open (and
// after DDL): a function whose body writes (INSERT, UPDATE, DELETE,
// REPLACE) a mapped table, or calls a procedure, is a writing function, and
// a statement whose text calls one resyncs the mapped tables it may write.
// A function whose body the user may not see counts when the server says
// it MODIFIES SQL DATA. The check costs nothing while no such function
// exists, and a substring search of a statement's text (once per text: the
// plan is cached) while some do.

// writingFunction is a stored function that may write mapped tables.
type writingFunction struct {
	name    string   // lower case, as called: "fn" (and "schema.fn" matches it too)
	targets []*table // the mapped tables it may write
}

// loadWritingFunctions lists the stored functions that may write mapped
// tables.
func loadWritingFunctions(ctx context.Context, db *sql.DB, tables []*table) ([]writingFunction, error) {
	rows, err := db.QueryContext(ctx, `SELECT ROUTINE_NAME, COALESCE(ROUTINE_DEFINITION, ''), ROUTINE_DEFINITION IS NULL, SQL_DATA_ACCESS
		FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []writingFunction
	for rows.Next() {
		var name, body, access string
		var hidden bool
		if err := rows.Scan(&name, &body, &hidden, &access); err != nil {
			return nil, err
		}
		var targets []*table
		switch {
		case hidden && strings.EqualFold(access, "MODIFIES SQL DATA"):
			targets = tables
		case hasWord(body, "CALL"):
			targets = tables
		case hasWord(body, "INSERT") || hasWord(body, "UPDATE") || hasWord(body, "DELETE") || hasWord(body, "REPLACE"):
			for _, t := range tables {
				if hasWord(body, strings.ToUpper(t.name)) {
					targets = append(targets, t)
				}
			}
		}
		if len(targets) > 0 {
			out = append(out, writingFunction{name: strings.ToLower(name), targets: targets})
		}
	}
	return out, rows.Err()
}

// functionWrites resyncs the mapped tables the writing functions a
// statement calls may write; nil when it calls none.
func (st *catalog) functionWrites(text string) []*tableWrite {
	if len(st.functions) == 0 {
		return nil
	}
	lower := strings.ToLower(text)
	var targets []*table
	for _, f := range st.functions {
		if callsFunction(lower, f.name) {
			targets = appendTables(targets, f.targets)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	return resyncAll(targets, reasonTableLevel)
}

// callsFunction reports whether lower-case text may call the function:
// its name, as a whole word (or quoted), followed by "(".
func callsFunction(lower, name string) bool {
	for i := 0; ; {
		j := strings.Index(lower[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		i = end
		if start > 0 && isIdentByte(lower[start-1]) {
			continue
		}
		rest := strings.TrimLeft(strings.TrimPrefix(lower[end:], "`"), " \t\r\n")
		if strings.HasPrefix(rest, "(") {
			return true
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}
