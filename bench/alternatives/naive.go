package main

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

// naivePush is the seed algorithm for one key, as a service would write it
// next to its commit: read the key's revision, read the row, write the key
// if its revision did not move, else start again. No batching, no
// coalescing, no fence (so it keeps the absent → put → delete hole the
// fence closes; this workload never deletes).
func naivePush(ctx context.Context, cli *clientv3.Client, db *sql.DB, table, prefix string, id int64) (retries int, err error) {
	key := prefix + strconv.FormatInt(id, 10)
	for {
		rev, err := keyRevision(ctx, cli, key)
		if err != nil {
			return retries, err
		}
		var it rig.Item
		var op clientv3.Op
		err = db.QueryRowContext(ctx, "SELECT id, val, n FROM "+table+" WHERE id = ?", id).Scan(&it.ID, &it.Val, &it.N)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			op = clientv3.OpDelete(key)
		case err != nil:
			return retries, err
		default:
			op = clientv3.OpPut(key, rig.ItemJSON(it.ID, it.Val, it.N))
		}
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		resp, err := cli.Txn(tctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).Then(op).Commit()
		cancel()
		if err != nil {
			return retries, err
		}
		if resp.Succeeded {
			return retries, nil
		}
		retries++
	}
}

func keyRevision(ctx context.Context, cli *clientv3.Client, key string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, key, clientv3.WithKeysOnly())
	if err != nil {
		return 0, err
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return resp.Kvs[0].ModRevision, nil
}

// dualWrite is the plain dual write: read the row back, put it.
func dualWrite(ctx context.Context, cli *clientv3.Client, db *sql.DB, table, prefix string, id int64) error {
	var it rig.Item
	if err := db.QueryRowContext(ctx, "SELECT id, val, n FROM "+table+" WHERE id = ?", id).Scan(&it.ID, &it.Val, &it.N); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := cli.Put(ctx, prefix+strconv.FormatInt(id, 10), rig.ItemJSON(it.ID, it.Val, it.N))
	return err
}
