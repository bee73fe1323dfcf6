package mysqletcd

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"

	"github.com/mysqletcd/mysqletcd/internal/sqlparse"
)

// A foreign key with ON DELETE/UPDATE CASCADE or SET NULL lets a write to a
// parent table change rows of a mapped child table that the statement never
// names. The driver learns these keys at open (through any depth of
// cascading tables) and resyncs the mapped tables below a parent that an
// UPDATE, DELETE, REPLACE or upsert writes.

// loadCascades maps each table whose writes can cascade into a mapped table
// (lower-case "schema.table") to those mapped tables. What the database
// user may not see is taken to cascade, and logged.
func loadCascades(ctx context.Context, db *sql.DB, tables []*table, lg *slog.Logger) (map[string][]*table, error) {
	cascades := map[string][]*table{}
	for _, t := range tables {
		seen := map[string]bool{strings.ToLower(t.qualified()): true}
		queue := [][2]string{{t.schema, t.name}}
		for len(queue) > 0 {
			child := queue[0]
			queue = queue[1:]
			parents, err := cascadingParents(ctx, db, child[0], child[1], lg)
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
// MariaDB shows a foreign key's rules (REFERENTIAL_CONSTRAINTS) only to a
// user with a database-level privilege other than SELECT, but the key
// itself (KEY_COLUMN_USAGE) to any user with a privilege on the table: a
// key whose rules are hidden is taken to cascade. A parent the user has no
// privilege on hides its own parents: that is logged.
func cascadingParents(ctx context.Context, db *sql.DB, schema, name string, lg *slog.Logger) ([][2]string, error) {
	rules := map[string]bool{} // constraint name -> cascades
	err := scanAll(ctx, db, func(r *sql.Rows) error {
		var fk string
		var cascades bool
		err := r.Scan(&fk, &cascades)
		rules[fk] = cascades
		return err
	}, `SELECT CONSTRAINT_NAME, DELETE_RULE NOT IN ('RESTRICT', 'NO ACTION') OR UPDATE_RULE NOT IN ('RESTRICT', 'NO ACTION')
		FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, schema, name)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	keys := 0
	err = scanAll(ctx, db, func(r *sql.Rows) error {
		var fk string
		var p [2]string
		if err := r.Scan(&fk, &p[0], &p[1]); err != nil {
			return err
		}
		keys++
		cascades, known := rules[fk]
		if !known {
			lg.Warn("mysqletcd: the database user cannot see the rules of a foreign key, so writes to its parent table resync the child; GRANT SHOW VIEW on the child's database lets it see them",
				"child", schema+"."+name, "foreign_key", fk, "parent", p[0]+"."+p[1])
		}
		if cascades || !known {
			out = append(out, p)
		}
		return nil
	}, `SELECT DISTINCT CONSTRAINT_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL`, schema, name)
	if err != nil || keys > 0 {
		return out, err
	}
	var visible bool
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", schema, name).Scan(&visible)
	if err == nil && !visible {
		lg.Warn("mysqletcd: the database user has no privilege on a table that cascades into a mapped table, so the driver cannot see what cascades into it; GRANT SELECT on it",
			"table", schema+"."+name)
	}
	return nil, err
}

// scanAll runs a query and calls scan for each row.
func scanAll(ctx context.Context, db *sql.DB, scan func(*sql.Rows) error, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// loadViews maps each view whose definition names a mapped table (lower-case
// "schema.view") to those tables: a write through an updatable view writes
// them. A definition the user may not see (no SHOW VIEW privilege) may name
// any of them: writes through it resync them all, and that is logged.
func loadViews(ctx context.Context, db *sql.DB, tables []*table, lg *slog.Logger) (map[string][]*table, error) {
	views := map[string][]*table{}
	err := scanAll(ctx, db, func(r *sql.Rows) error {
		var schema, name, def string
		if err := r.Scan(&schema, &name, &def); err != nil {
			return err
		}
		key := strings.ToLower(schema + "." + name)
		if def == "" {
			lg.Warn("mysqletcd: the database user cannot see the definition of a view, so writes through it resync every mapped table; GRANT SHOW VIEW on it lets it see which tables it writes",
				"view", schema+"."+name)
			views[key] = append([]*table(nil), tables...)
			return nil
		}
		for _, t := range tables {
			if strings.Contains(def, "`"+strings.ToLower(t.schema)+"`.`"+strings.ToLower(t.name)+"`") {
				views[key] = append(views[key], t)
			}
		}
		return nil
	}, `SELECT TABLE_SCHEMA, TABLE_NAME, LOWER(VIEW_DEFINITION) FROM information_schema.VIEWS`)
	return views, err
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
