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

// loadViews maps each view whose definition names a mapped table (lower-case
// "schema.view") to those tables: a write through an updatable view writes
// them.
func loadViews(ctx context.Context, db *sql.DB, tables []*table) (map[string][]*table, error) {
	rows, err := db.QueryContext(ctx, `SELECT TABLE_SCHEMA, TABLE_NAME, LOWER(VIEW_DEFINITION) FROM information_schema.VIEWS`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	views := map[string][]*table{}
	for rows.Next() {
		var schema, name, def string
		if err := rows.Scan(&schema, &name, &def); err != nil {
			return nil, err
		}
		for _, t := range tables {
			if strings.Contains(def, "`"+strings.ToLower(t.schema)+"`.`"+strings.ToLower(t.name)+"`") {
				key := strings.ToLower(schema + "." + name)
				views[key] = append(views[key], t)
			}
		}
	}
	return views, rows.Err()
}

// cascadeWrites resyncs the mapped tables a statement's writes may reach
// without naming them: through foreign key cascades, a view, or triggers.
func (st *catalog) cascadeWrites(schema string, s sqlparse.Statement) []*tableWrite {
	if len(st.cascades) == 0 && len(st.views) == 0 && len(st.triggers) == 0 {
		return nil
	}
	var children []*table
	add := func(from map[string][]*table) {
		for _, tn := range s.Tables {
			sch := schema
			if tn.Schema != "" {
				sch = tn.Schema
			}
			children = appendTables(children, from[strings.ToLower(sch+"."+tn.Name)])
		}
	}
	switch s.Kind {
	case sqlparse.Insert, sqlparse.Replace, sqlparse.Update, sqlparse.Delete, sqlparse.LoadData:
		add(st.views)
		add(st.triggers)
	}
	if s.Kind == sqlparse.Update || s.Kind == sqlparse.Delete || s.Kind == sqlparse.Replace ||
		s.Kind == sqlparse.Insert && len(s.OnDuplicate) > 0 {
		add(st.cascades)
	}
	return resyncAll(children, reasonTableLevel)
}

// namesCascadeParent reports whether the text may name a table or view
// whose writes reach a mapped table.
func (st *catalog) namesCascadeParent(text string) bool {
	if len(st.cascades) == 0 && len(st.views) == 0 && len(st.triggers) == 0 {
		return false
	}
	lower := strings.ToLower(text)
	for _, m := range []map[string][]*table{st.cascades, st.views, st.triggers} {
		for key := range m {
			_, name, _ := strings.Cut(key, ".")
			if strings.Contains(lower, name) {
				return true
			}
		}
	}
	return false
}
