package mysqletcd

import (
	"context"
	"database/sql"
	"strings"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// A foreign key with ON DELETE/UPDATE CASCADE or SET NULL lets a write to a
// parent table change rows of a mapped child table that the statement never
// names. The driver learns these keys at open (through any depth of
// cascading tables) and resyncs the mapped tables below a parent that an
// UPDATE, DELETE, REPLACE or upsert writes.

// loadCascades maps each table whose writes can cascade into a mapped table
// (lower-case "schema.table") to those mapped tables.
func loadCascades(ctx context.Context, db *sql.DB, tables []*table) (map[string][]*table, error) {
	cascades := map[string][]*table{}
	for _, t := range tables {
		seen := map[string]bool{strings.ToLower(t.qualified()): true}
		queue := [][2]string{{t.schema, t.name}}
		for len(queue) > 0 {
			child := queue[0]
			queue = queue[1:]
			parents, err := cascadingParents(ctx, db, child[0], child[1])
			if err != nil {
				return nil, err
			}
			for _, p := range parents {
				key := strings.ToLower(p[0] + "." + p[1])
				if seen[key] {
					continue
				}
				seen[key] = true
				cascades[key] = append(cascades[key], t)
				queue = append(queue, p)
			}
		}
	}
	return cascades, nil
}

// cascadingParents lists the tables whose writes cascade into a table.
func cascadingParents(ctx context.Context, db *sql.DB, schema, name string) ([][2]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT UNIQUE_CONSTRAINT_SCHEMA, REFERENCED_TABLE_NAME
		FROM information_schema.REFERENTIAL_CONSTRAINTS
		WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?
		AND (DELETE_RULE NOT IN ('RESTRICT', 'NO ACTION') OR UPDATE_RULE NOT IN ('RESTRICT', 'NO ACTION'))`, schema, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// cascadeWrites resyncs the mapped tables a statement's writes may cascade
// into.
func (st *state) cascadeWrites(schema string, s sqlparse.Statement) []*tableWrite {
	if len(st.cascades) == 0 {
		return nil
	}
	switch {
	case s.Kind == sqlparse.Update, s.Kind == sqlparse.Delete, s.Kind == sqlparse.Replace:
	case s.Kind == sqlparse.Insert && len(s.OnDuplicate) > 0:
	default:
		return nil
	}
	var children []*table
	for _, tn := range s.Tables {
		sch := schema
		if tn.Schema != "" {
			sch = tn.Schema
		}
		for _, c := range st.cascades[strings.ToLower(sch+"."+tn.Name)] {
			if !containsTable(children, c) {
				children = append(children, c)
			}
		}
	}
	return resyncAll(children, reasonTableLevel)
}

// namesCascadeParent reports whether the text may name a table whose writes
// cascade into a mapped table.
func (st *state) namesCascadeParent(text string) bool {
	if len(st.cascades) == 0 {
		return false
	}
	lower := strings.ToLower(text)
	for key := range st.cascades {
		_, name, _ := strings.Cut(key, ".")
		if strings.Contains(lower, name) {
			return true
		}
	}
	return false
}

func containsTable(list []*table, t *table) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}
