package mysqletcd

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// After DDL through the driver, the catalog is read again and swapped in:
// a mapping whose table now exists starts working (and its table resyncs);
// a mapping whose table changed keeps working where it still can (and
// resyncs: an added column changes every JSON value); a mapping that no
// longer fits its table (a mapped column dropped or renamed) is reported
// through the logger, Config.OnError and Stats().MappingErrors, and its
// keys are left as they are until DDL makes it fit again. The app's DDL is
// never failed for it.

// reload reads the schema again and swaps the new catalog in.
func (st *state) reload(ctx context.Context) {
	st.reloadMu.Lock()
	defer st.reloadMu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*st.cfg.Etcd.RequestTimeout)
	defer cancel()
	old := st.cat.Load()
	cat, problems, err := loadCatalog(ctx, st.cfg, st.db)
	if err != nil {
		st.sync.stats.errors.Add(1)
		st.sync.report(fmt.Errorf("reload the schema after DDL: %w", err))
		return
	}
	st.cat.Store(cat)
	st.sync.setCatalog(cat)
	for _, p := range problems {
		if p.missing && old.mappings[p.index] == nil {
			continue // still waiting for its table: warned at open
		}
		if p.missing {
			// Dropped or renamed away: the DDL's own resync deletes its keys.
			st.cfg.Logger.Warn("mysqletcd: a mapped table is gone; its keys are deleted, and the mapping starts again when the table comes back", "err", p.err)
			continue
		}
		st.sync.stats.mappingErrors.Add(1)
		st.sync.metrics.brokenMapping(st.cfg.Tables[p.index].Table)
		st.sync.report(fmt.Errorf("after DDL the mapping no longer fits its table; its keys are left as they are until it does: %w", p.err))
	}
	for i, m := range cat.mappings {
		if m != nil && (old.mappings[i] == nil || old.mappings[i].table.signature() != m.table.signature()) {
			st.cfg.Logger.Info("mysqletcd: mapping (re)bound after DDL; resyncing its table", "mapping", m.String())
			st.sync.requestResync(m)
		}
	}
}

// reloadIfCreated reloads the catalog when a table some mapping waits for
// exists now: created by another process, or by DDL the driver did not see.
// It costs one query, and only while a mapping waits.
func (st *state) reloadIfCreated(ctx context.Context) {
	cat := st.cat.Load()
	if len(cat.missing) == 0 {
		return
	}
	args := make([]any, len(cat.missing))
	for i, key := range cat.missing {
		args[i] = key
	}
	ctx, cancel := context.WithTimeout(ctx, st.cfg.Etcd.RequestTimeout)
	defer cancel()
	var n int
	err := st.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.TABLES WHERE LOWER(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)) IN ("+
		strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")+")", args...).Scan(&n)
	if err == nil && n > 0 {
		st.reload(ctx)
	}
}

// signature sums up a table's definition: what a mapping's value and the
// capture plans depend on.
func (t *table) signature() string {
	var b strings.Builder
	for _, c := range t.columns {
		fmt.Fprintf(&b, "%s %s %v %s %v;", c.name, c.dataType, c.nullable, c.collation, c.unsigned)
	}
	fmt.Fprintf(&b, "|%v|%s|%v", t.uniques, t.autoInc, t.transactional)
	return b.String()
}

// setCatalog hands the syncer the mappings of a new catalog.
func (s *syncer) setCatalog(cat *catalog) {
	s.maps.Store(&cat.mappings)
	s.missing.Store(&cat.missing)
}

// currentOf is the mapping to push a key of m with now: m's successor in
// the current catalog; m itself when its table is gone (the push deletes
// the key); nil when the mapping no longer fits its table.
func (s *syncer) currentOf(m *mapping) *mapping {
	maps := *s.maps.Load()
	if m.index < len(maps) && maps[m.index] != nil {
		return maps[m.index]
	}
	if missing := s.missing.Load(); missing != nil && slices.Contains(*missing, strings.ToLower(m.table.qualified())) {
		return m
	}
	return nil
}
