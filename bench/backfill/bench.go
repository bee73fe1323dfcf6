package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

// bench is the program's servers and clients.
type bench struct {
	srv            *servers
	etcd           *clientv3.Client // for the raw writers and the cleanup
	rows           int64
	workers, batch int           // as set by the flags; 0 is the library's default
	timeout        time.Duration // Etcd.RequestTimeout, and the raw writers' deadline
	meter          meter
}

func newBench(o options) (*bench, error) {
	srv := useServers(o.dsn, o.etcd)
	if o.dsn == "" {
		var err error
		if srv, err = startServers(); err != nil {
			return nil, err
		}
	}
	b := &bench{srv: srv, rows: int64(o.rows), workers: o.workers, batch: o.batch, timeout: cmp.Or(o.timeout, defaultTimeout)}
	b.meter.etcdPID, b.meter.mysqlPID = srv.pids()
	cli, err := mysqletcd.NewEtcdClient(mysqletcd.EtcdConfig{Endpoints: srv.Etcd})
	if err != nil {
		return nil, errors.Join(err, srv.stop())
	}
	b.etcd = cli
	return b, nil
}

func (b *bench) close() error {
	return errors.Join(b.etcd.Close(), b.srv.stop())
}

// fill creates and fills the table through the plain mysql driver.
func (b *bench) fill(ctx context.Context) (time.Duration, error) {
	mc, err := mysql.ParseDSN(b.srv.DSN)
	if err != nil {
		return 0, err
	}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return 0, err
	}
	db := sql.OpenDB(inner)
	defer db.Close()
	start := time.Now()
	err = createItems(ctx, db, b.rows)
	return time.Since(start), err
}

// runResult is one run's measurements.
type runResult struct {
	n    int       // the run's number
	load [2]string // the 1-minute load average at its start and end
	raw  []phase
	backfillResult
}

func (b *bench) runAll(ctx context.Context, o options, out io.Writer) error {
	workers, batch := cmp.Or(o.workers, defaultWorkers), cmp.Or(o.batch, defaultBatch)
	fmt.Fprintf(out, "mysqletcd backfill benchmark: %d rows, %d runs, workers %d, batch %d, etcd request timeout %s, %s, GOMAXPROCS %d\n",
		b.rows, o.runs, workers, batch, b.timeout, runtime.Version(), runtime.GOMAXPROCS(0))
	took, err := b.fill(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "filled items with %d rows in %.1fs (not timed below); value of row 1: %d bytes\n\n",
		b.rows, took.Seconds(), len(makeItem(1).value()))
	var runs []runResult
	var failed []error
	for r := 1; r <= o.runs && ctx.Err() == nil; r++ {
		var profiles [2]string
		if r == 1 {
			profiles = [2]string{o.cpuprofile, o.etcdprofile}
		}
		load := loadAverage()
		res, err := b.runOnce(ctx, rawVariants(batch), workers, profiles, out)
		if err != nil {
			// The other runs still say something; the exit status says this.
			err = fmt.Errorf("run %d: %w", r, err)
			fmt.Fprintf(out, "%v\n\n", err)
			failed = append(failed, err)
			continue
		}
		res.n, res.load = r, [2]string{load, loadAverage()}
		runs = append(runs, res)
		printRun(out, res, workers)
	}
	hwm, err := memStatus("self", "VmHWM")
	if err != nil {
		return err
	}
	if len(runs) > 0 {
		printSummary(out, runs, hwm)
	}
	return errors.Join(failed...)
}

func (b *bench) runOnce(ctx context.Context, variants []rawVariant, workers int, profiles [2]string, out io.Writer) (runResult, error) {
	var res runResult
	for _, v := range variants {
		if err := b.resetEtcd(ctx); err != nil {
			return res, err
		}
		var done atomic.Int64
		p, err := b.meter.measure(v.String(), v.name, b.rows, done.Load, func() error {
			return putRaw(ctx, b.etcd, v, b.rows, workers, b.timeout, &done)
		})
		if err != nil {
			return res, err
		}
		res.raw = append(res.raw, p)
	}
	if err := b.resetEtcd(ctx); err != nil {
		return res, err
	}
	var err error
	res.backfillResult, err = b.backfill(ctx, profiles[0], profiles[1])
	return res, err
}

// resetEtcd empties etcd before a measured step. An etcd the program
// started is replaced with a fresh member: deleting a run's two million
// keys, then compacting and defragmenting, took longer than the run on a
// busy machine. On another etcd, every key under /bench/ is deleted.
func (b *bench) resetEtcd(ctx context.Context) error {
	if !b.srv.own {
		return clearPrefix(ctx, b.etcd, "/bench/")
	}
	eps, err := b.srv.command("fresh-etcd")
	if err != nil {
		return err
	}
	b.srv.Etcd = strings.Split(eps, ",")
	cli, err := mysqletcd.NewEtcdClient(mysqletcd.EtcdConfig{Endpoints: b.srv.Etcd})
	if err != nil {
		return err
	}
	b.etcd.Close()
	b.etcd = cli
	return nil
}

// clearPrefix deletes every key under prefix, a page at a time.
func clearPrefix(ctx context.Context, cli *clientv3.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	end := clientv3.GetPrefixRangeEnd(prefix)
	// Each page starts after the last one: a range from the prefix would
	// walk every key deleted so far in etcd's index again.
	for from := prefix; ; {
		resp, err := cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(10000))
		if err != nil {
			return fmt.Errorf("clear %s: %w", prefix, err)
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		next := string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		if _, err := cli.Delete(ctx, from, clientv3.WithRange(next)); err != nil {
			return fmt.Errorf("clear %s: %w", prefix, err)
		}
		from = next
	}
}
