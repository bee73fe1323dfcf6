package rig

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

// The programs write "items" tables: an integer primary key (the mapped
// key), a non-unique indexed group for writes whose keys are not in the
// statement, a short value and a counter.

// ItemsDDL drops and creates an items table named table.
func ItemsDDL(table string) []string {
	return []string{
		"DROP TABLE IF EXISTS " + table,
		"CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, grp INT NOT NULL, val VARCHAR(64) NOT NULL, n INT NOT NULL DEFAULT 0, KEY (grp))",
	}
}

// ItemsMapping maps each row of table to prefix+id, a JSON object of id,
// val and n.
func ItemsMapping(table, prefix string) mysqletcd.Mapping {
	return mysqletcd.Mapping{Table: table, Key: prefix + "{id}", Value: mysqletcd.JSONValue, Columns: []string{"id", "val", "n"}}
}

// SeedItems inserts rows with ids from..to-1, groupSize rows per group,
// through db (usually the plain driver: the keys do not go to etcd).
func SeedItems(ctx context.Context, db *sql.DB, table string, from, to, groupSize int) error {
	const chunk = 1000
	for lo := from; lo < to; lo += chunk {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (id, grp, val, n) VALUES ")
		for id := lo; id < min(lo+chunk, to); id++ {
			if id > lo {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'seed',0)", id, id/groupSize)
		}
		if _, err := db.ExecContext(ctx, b.String()); err != nil {
			return fmt.Errorf("seed %s: %w", table, err)
		}
	}
	return nil
}

// Item is an items row, or what a key of ItemsMapping holds.
type Item struct {
	ID  int64  `json:"id"`
	Val string `json:"val"`
	N   int64  `json:"n"`
}

// ItemJSON is the value ItemsMapping gives a row (for pushers written here).
func ItemJSON(id int64, val string, n int64) string {
	return `{"id":` + strconv.FormatInt(id, 10) + `,"val":` + strconv.Quote(val) + `,"n":` + strconv.FormatInt(n, 10) + `}`
}

// Compare reads every row of table and every key under prefix and returns
// the number of keys that differ from their row (stale, missing or
// orphaned) and the number of rows.
func Compare(ctx context.Context, db *sql.DB, cli *clientv3.Client, table, prefix string) (stale, rows int, err error) {
	want := map[string]Item{}
	rs, err := db.QueryContext(ctx, "SELECT id, val, n FROM "+table)
	if err != nil {
		return 0, 0, err
	}
	for rs.Next() {
		var it Item
		if err := rs.Scan(&it.ID, &it.Val, &it.N); err != nil {
			rs.Close()
			return 0, 0, err
		}
		want[prefix+strconv.FormatInt(it.ID, 10)] = it
	}
	if err := rs.Close(); err != nil {
		return 0, 0, err
	}
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, 0, err
	}
	seen := map[string]bool{}
	for _, kv := range resp.Kvs {
		k := string(kv.Key)
		seen[k] = true
		var got Item
		w, ok := want[k]
		if !ok || json.Unmarshal(kv.Value, &got) != nil || got != w {
			stale++
		}
	}
	for k := range want {
		if !seen[k] {
			stale++
		}
	}
	return stale, len(want), nil
}

// ClearPrefixes deletes every key under the prefixes (a rerun against the
// same -etcd starts clean).
func ClearPrefixes(ctx context.Context, cli *clientv3.Client, prefixes ...string) error {
	for _, p := range prefixes {
		if _, err := cli.Delete(ctx, p, clientv3.WithPrefix()); err != nil {
			return err
		}
	}
	return nil
}
