package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// rawVariant is a way of writing the table's keys straight into etcd, with
// no database and no compare: the most the pipeline could push on this etcd.
// Keys and values have the sizes of the mapping's.
type rawVariant struct {
	name       string
	prefix     string // data keys; as long as the mapping's prefix
	fences     string // with fences: a prefix as long as the library's
	keysPerTxn int
}

func (v rawVariant) String() string {
	if v.fences == "" {
		return fmt.Sprintf("%s (%d puts/Txn)", v.name, v.keysPerTxn)
	}
	return fmt.Sprintf("%s (%d keys + %d fences/Txn)", v.name, v.keysPerTxn, v.keysPerTxn)
}

// rawVariants are the two limits the backfill is compared with: Txns of
// 2*batch puts of data keys only, and Txns of batch keys each with a fence
// put before it, the op count of the push protocol's compare-and-swap.
func rawVariants(batch int) []rawVariant {
	return []rawVariant{
		{name: "raw-puts", prefix: "/bench/raw-a/", keysPerTxn: 2 * batch},
		{name: "raw-fenced", prefix: "/bench/raw-b/", fences: fencePrefixRaw, keysPerTxn: batch},
	}
}

// putRaw writes keys 1..n of the variant from workers goroutines, each
// taking the next keysPerTxn ids, as the library's workers take batches.
// done counts the keys written.
func putRaw(ctx context.Context, cli *clientv3.Client, v rawVariant, n int64, workers int, timeout time.Duration, done *atomic.Int64) error {
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for errs[w] == nil && ctx.Err() == nil {
				to := next.Add(int64(v.keysPerTxn))
				from := to - int64(v.keysPerTxn) + 1
				if from > n {
					return
				}
				to = min(to, n)
				errs[w] = putTxn(ctx, cli, v, from, to, timeout)
				done.Add(to - from + 1)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}
	return ctx.Err()
}

func putTxn(ctx context.Context, cli *clientv3.Client, v rawVariant, from, to int64, timeout time.Duration) error {
	ops := make([]clientv3.Op, 0, 2*(to-from+1))
	for id := from; id <= to; id++ {
		key := v.prefix + strconv.FormatInt(id, 10)
		if v.fences != "" {
			ops = append(ops, clientv3.OpPut(v.fences+"/fence"+key, ""))
		}
		ops = append(ops, clientv3.OpPut(key, string(makeItem(id).value())))
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := cli.Txn(ctx).Then(ops...).Commit()
	return err
}
