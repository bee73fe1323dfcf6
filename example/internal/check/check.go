// Package check compares etcd with the database the way an outside reader of
// both would, without the driver's code: it lists each mapped table's rows
// with the plain mysql driver, computes the key and value the mapping gives
// for each, and compares them with the keys under the mapping's prefix in
// etcd. The examples' tests use it beside the driver's own
// Connector.Reconcile dry run, so that a bug shared by the driver's push and
// its reconcile would still show.
package check

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sort"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

// Diff returns one line for each key where etcd differs from what cfg's
// mappings give for the rows of db (which should use the plain mysql
// driver): "missing", "stale" or "orphan", then the key. Keys under
// cfg.FencePrefix are the driver's own and are ignored. An empty result
// means etcd equals the database.
func Diff(ctx context.Context, db *sql.DB, cli *clientv3.Client, cfg mysqletcd.Config) ([]string, error) {
	want := map[string]expected{}
	for _, m := range cfg.Tables {
		if err := addRows(ctx, db, m, want); err != nil {
			return nil, err
		}
	}
	got, err := etcdKeys(ctx, cli, cfg)
	if err != nil {
		return nil, err
	}
	var lines []string
	for key, w := range want {
		g, ok := got[key]
		switch {
		case !ok:
			lines = append(lines, "missing "+key)
		case !w.matches(g):
			lines = append(lines, fmt.Sprintf("stale   %s = %s, want %s", key, g, w))
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			lines = append(lines, "orphan  "+key)
		}
	}
	sort.Strings(lines)
	return lines, nil
}

// addRows adds the key and expected value of every row mapping m gives.
func addRows(ctx context.Context, db *sql.DB, m mysqletcd.Mapping, want map[string]expected) error {
	query := "SELECT * FROM " + quoteTable(m.Table)
	if m.Where != "" {
		query += " WHERE " + m.Where
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("check: list %s: %w", m.Table, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	for rows.Next() {
		row, err := scanRow(rows, types)
		if err != nil {
			return fmt.Errorf("check: list %s: %w", m.Table, err)
		}
		key, err := renderKey(m.Key, row)
		if err != nil {
			return fmt.Errorf("check: %s: %w", m.Table, err)
		}
		want[key] = expectedValue(m, row)
	}
	return rows.Err()
}

// renderKey fills in the template's {column}s with the row's text values,
// path-escaped as the mapping rules say.
func renderKey(template string, row *dbRow) (string, error) {
	var b strings.Builder
	rest := template
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.IndexByte(rest, '}')
		col := rest[open+1 : end]
		f, ok := row.field(col)
		if !ok || f.null {
			return "", fmt.Errorf("key %s: column %s is missing or NULL", template, col)
		}
		b.WriteString(rest[:open])
		b.WriteString(url.PathEscape(f.text))
		rest = rest[end+1:]
	}
}

// etcdKeys reads every key under the literal prefix of each mapping,
// leaving out the driver's fence and epoch keys.
func etcdKeys(ctx context.Context, cli *clientv3.Client, cfg mysqletcd.Config) (map[string]string, error) {
	fences := cfg.FencePrefix
	if fences == "" {
		fences = "/_mysqletcd"
	}
	fences = strings.TrimRight(fences, "/") + "/"
	got := map[string]string{}
	for _, m := range cfg.Tables {
		prefix := m.Key[:strings.IndexByte(m.Key, '{')]
		resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
		if err != nil {
			return nil, fmt.Errorf("check: read etcd %s: %w", prefix, err)
		}
		for _, kv := range resp.Kvs {
			if !strings.HasPrefix(string(kv.Key), fences) {
				got[string(kv.Key)] = string(kv.Value)
			}
		}
	}
	return got, nil
}

// quoteTable quotes "table" or "schema.table" for MySQL.
func quoteTable(name string) string {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}
