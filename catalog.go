package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// catalog is the mappings bound to the schema as it was last read: the
// mapped tables, what cascades or views reach them, and the statement plans
// made against it. It is immutable once built; a reload after DDL builds a
// new one and the plans start over.
type catalog struct {
	tables    map[string]*table // by lower-case "schema.table"
	tableList []*table
	cascades  map[string][]*table // parent "schema.table" -> mapped tables its writes cascade into
	views     map[string][]*table // "schema.view" -> mapped tables it is defined over
	triggers  map[string][]*table // "schema.table" -> mapped tables its triggers write
	functions []writingFunction   // stored functions that may write mapped tables
	plans     planCache
	// mappings is indexed like Config.Tables; nil where the mapping does
	// not work now (missing lists those whose table does not exist).
	mappings []*mapping
	missing  []string // lower-case "schema.table" of the missing tables
}

// mappingProblem is why one mapping does not work against the schema.
type mappingProblem struct {
	index   int
	err     error
	missing bool // the table does not exist
}

// loadCatalog reads each mapped table and binds its mappings. A mapping
// that does not fit the schema is left out and reported as a problem; err
// is for a failure to read the schema at all.
func loadCatalog(ctx context.Context, cfg Config, db *sql.DB) (cat *catalog, problems []mappingProblem, err error) {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&current); err != nil {
		return nil, nil, fmt.Errorf("mysqletcd: read the default database: %w", err)
	}
	cat = &catalog{tables: map[string]*table{}, plans: planCache{max: 10000}, mappings: make([]*mapping, len(cfg.Tables))}
	loaded := map[string]*table{}
	for i, mc := range cfg.Tables {
		m, err := newMapping(i, mc)
		if err != nil {
			return nil, nil, err
		}
		schema, name, ok := strings.Cut(mc.Table, ".")
		if !ok {
			schema, name = current.String, mc.Table
			if schema == "" {
				problems = append(problems, mappingProblem{index: i, err: m.schemaErr("table", "%q names no database and the DSN has none: write db.%s or add /<database> to the DSN", mc.Table, mc.Table)})
				continue
			}
		}
		key := strings.ToLower(schema + "." + name)
		t, seen := loaded[key]
		if !seen {
			var found bool
			if t, found, err = loadTable(ctx, db, schema, name); err != nil {
				return nil, nil, fmt.Errorf("mysqletcd: %s: %w", m.field("table"), err)
			}
			if !found {
				t = nil
			}
			loaded[key] = t
		}
		if t == nil {
			cat.missing = appendUnique(cat.missing, key)
			problems = append(problems, mappingProblem{index: i, missing: true,
				err: m.schemaErr("table", "table %s.%s does not exist, or the database user has no privilege on it: create it, fix the name, or GRANT SELECT ON %s TO the user",
					schema, name, quoteTable(schema, name))})
			continue
		}
		if err := m.bind(t, cfg.FencePrefix); err != nil {
			problems = append(problems, mappingProblem{index: i, err: err})
			continue
		}
		if err := checkRead(ctx, db, m); err != nil {
			problems = append(problems, mappingProblem{index: i, err: err})
			continue
		}
		if cat.tables[key] == nil {
			cat.tables[key] = t
			cat.tableList = append(cat.tableList, t)
		}
		t.mappings = append(t.mappings, m)
		cat.mappings[i] = m
	}
	for _, t := range cat.tableList {
		t.finish()
	}
	if cat.cascades, err = loadCascades(ctx, db, cat.tableList, cfg.Logger); err != nil {
		return nil, nil, fmt.Errorf("mysqletcd: read foreign keys: %w", err)
	}
	if cat.views, err = loadViews(ctx, db, cat.tableList, cfg.Logger); err != nil {
		return nil, nil, fmt.Errorf("mysqletcd: read views: %w", err)
	}
	if cat.triggers, err = loadTriggers(ctx, db, cat.tableList); err != nil {
		return nil, nil, fmt.Errorf("mysqletcd: read triggers: %w", err)
	}
	if cat.functions, err = loadWritingFunctions(ctx, db, cat.tableList); err != nil {
		return nil, nil, fmt.Errorf("mysqletcd: read stored functions: %w", err)
	}
	return cat, problems, nil
}

// working lists the mappings that work now.
func (cat *catalog) working() []*mapping {
	var out []*mapping
	for _, m := range cat.mappings {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}

// plan returns the capture plan of a statement against the current catalog.
func (st *state) plan(schema, text string) *plan { return st.cat.Load().plan(schema, text) }

// working lists the mappings that work now.
func (s *syncer) working() []*mapping {
	var out []*mapping
	for _, m := range *s.maps.Load() {
		if m != nil {
			out = append(out, m)
		}
	}
	return out
}
