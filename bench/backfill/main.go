// Command backfill measures the mysqletcd reconciler as a backfill: the
// rows per second it pushes from a large table into an empty etcd, against
// the raw batched Put throughput of the same etcd in the same run, and the
// memory of the process doing it.
//
//	go run ./bench/backfill -rows 1000000 -runs 3
//
// By default it starts a private MariaDB and an etcd member (internal/testenv)
// in a child process, so that this process's memory and CPU are the
// driver's alone; -dsn and -etcd name existing servers instead. It creates
// the table items with -rows rows, then for each run:
//
//  1. raw-puts: writes -rows keys of the mapping's key and value sizes in
//     Txns of 2*batch puts from -workers goroutines;
//  2. raw-fenced: the same with a fence put before each key, batch keys per
//     Txn: the op count of the push protocol's compare-and-swap;
//  3. backfill: Connector.Reconcile on an empty etcd;
//  4. verify: a dry-run Reconcile, which must find no drift.
//
// Each measured step starts on an empty etcd: one the program started is
// replaced with a fresh member (same configuration, same disk); on one
// named by -etcd, every key under /bench/ is deleted. A run that fails (an etcd call past its
// deadline, drift found by the verify) is reported and the next one
// starts; the program then exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// The library's defaults (Config.withDefaults), for the raw writers.
const (
	defaultWorkers = 4
	defaultBatch   = 60
	defaultTimeout = 5 * time.Second
)

type options struct {
	rows, runs     int
	workers, batch int
	timeout        time.Duration
	cpuprofile     string
	etcdprofile    string
	dsn, etcd      string
	serve          bool
}

func main() {
	var o options
	flag.IntVar(&o.rows, "rows", 1_000_000, "rows in the table")
	flag.IntVar(&o.runs, "runs", 3, "times to repeat the raw and backfill measurements")
	flag.IntVar(&o.workers, "workers", 0, "Config.Workers, and the raw writers' goroutines (0: the library's default, 4)")
	flag.IntVar(&o.batch, "batch", 0, "Config.BatchSize (0: the library's default, 60); the raw Txns hold 2*batch puts")
	flag.DurationVar(&o.timeout, "request-timeout", 0, "Config.Etcd.RequestTimeout, and the raw writers' deadline per Txn (0: the library's default, 5s)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the first run's backfill to this file")
	flag.StringVar(&o.etcdprofile, "etcd-cpuprofile", "", "write a CPU profile of the etcd server during the first run's backfill to this file (when the program starts etcd)")
	flag.StringVar(&o.dsn, "dsn", "", "use this MySQL database (go-sql-driver DSN) instead of starting a server; its table items is replaced")
	flag.StringVar(&o.etcd, "etcd", "", "use these etcd endpoints (comma-separated) instead of starting one; keys under /bench/ are deleted")
	flag.BoolVar(&o.serve, "serve", false, "internal: start the servers and keep them until stdin closes")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	var err error
	if o.serve {
		err = serve(ctx)
	} else {
		err = run(ctx, o, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "backfill:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	if (o.dsn == "") != (o.etcd == "") {
		return fmt.Errorf("-dsn and -etcd go together: name both servers, or neither to start them")
	}
	if o.etcdprofile != "" && o.etcd != "" {
		return fmt.Errorf("-etcd-cpuprofile needs the etcd this program starts: drop -etcd and -dsn")
	}
	if o.rows < 1 || o.runs < 1 {
		return fmt.Errorf("-rows and -runs must be at least 1")
	}
	b, err := newBench(o)
	if err != nil {
		return err
	}
	defer b.close()
	return b.runAll(ctx, o, out)
}
