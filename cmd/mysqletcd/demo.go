package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func demoCommand() *command {
	return &command{
		name:     "demo",
		summary:  "replay the stale-etcd story with real servers it starts itself",
		synopsis: "demo",
		about: `
Two services write one row and mirror it into etcd; the first one's mirror
write lands last. A naive dual write (read the row, Put) leaves etcd stale
for good; the mysqletcd driver's fenced compare-and-swap does not. Starts a
private MariaDB (mariadbd must be installed) and an in-process etcd, and
never touches a server already running.`,
		examples: `  mysqletcd demo`,
		define: func(_ *flag.FlagSet, inv *invocation) action {
			return func(ctx context.Context) error { return demo(ctx, inv.stdout) }
		},
	}
}

// demo replays the story that motivates the driver, on servers it starts:
// service A writes row key2 and reads it back to mirror it; service B writes
// the same row, reads it and mirrors it; A's mirror write lands last.
func demo(ctx context.Context, out io.Writer) error {
	fmt.Fprintln(out, "Starting a private MariaDB and an in-process etcd...")
	db, err := testenv.StartMariaDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	etcd, err := testenv.StartEtcd(ctx, 1)
	if err != nil {
		return err
	}
	defer etcd.Close()
	cli, err := etcd.NewClient()
	if err != nil {
		return err
	}
	defer cli.Close()
	dsn, err := db.CreateDatabase(ctx, "demo")
	if err != nil {
		return err
	}
	plain, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer plain.Close()
	if _, err := plain.ExecContext(ctx, "CREATE TABLE kv (k VARCHAR(32) PRIMARY KEY, v VARCHAR(64) NOT NULL)"); err != nil {
		return err
	}

	fmt.Fprint(out, `
Services A and B both write row key2 of table kv and mirror it into etcd:
  1. A writes key2=valA and reads the row back to push it (A is slow to push)
  2. B writes key2=valB, reads the row and pushes it
  3. A's push lands last

`)
	naive, err := naiveStory(ctx, plain, cli)
	if err != nil {
		return err
	}
	if err := report(ctx, out, plain, "naive dual write (read row, Put)", naive); err != nil {
		return err
	}
	driver, err := driverStory(ctx, dsn, etcd.Endpoints(), cli)
	if err != nil {
		return err
	}
	return report(ctx, out, plain, "mysqletcd driver (fenced CAS)", driver)
}

// report compares what etcd holds with the row.
func report(ctx context.Context, out io.Writer, db *sql.DB, who, got string) error {
	var row string
	if err := db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = 'key2'").Scan(&row); err != nil {
		return err
	}
	verdict := "consistent"
	if got != row {
		verdict = "STALE, and nothing will fix it"
	}
	fmt.Fprintf(out, "  %-34s DB key2=%s  etcd key2=%s  -> %s\n", who+":", row, got, verdict)
	return nil
}

// naiveStory is the hand-written dual write: read the row, Put it.
func naiveStory(ctx context.Context, db *sql.DB, cli *clientv3.Client) (string, error) {
	const key = "/demo/naive/key2"
	exec := func(q string) error { _, err := db.ExecContext(ctx, q); return err }
	read := func() (v string, err error) {
		err = db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k = 'key2'").Scan(&v)
		return v, err
	}
	if err := exec("REPLACE INTO kv VALUES ('key2', 'val_old')"); err != nil {
		return "", err
	}
	if err := exec("UPDATE kv SET v = 'valA' WHERE k = 'key2'"); err != nil { // A1
		return "", err
	}
	a, err := read() // A2 reads, then stalls
	if err != nil {
		return "", err
	}
	if err := exec("UPDATE kv SET v = 'valB' WHERE k = 'key2'"); err != nil { // B1
		return "", err
	}
	b, err := read() // B2 reads and pushes
	if err != nil {
		return "", err
	}
	if _, err := cli.Put(ctx, key, b); err != nil {
		return "", err
	}
	if _, err := cli.Put(ctx, key, a); err != nil { // A2 pushes last
		return "", err
	}
	return get(ctx, cli, key)
}

// driverStory runs the same interleaving through the driver: A's push is
// held (through PushTrace) after it has read the row, until B's push has
// landed.
func driverStory(ctx context.Context, dsn string, endpoints []string, cli *clientv3.Client) (string, error) {
	held, release := make(chan struct{}), make(chan struct{})
	hold := make(chan struct{}, 1)
	cfg := mysqletcd.Config{
		Etcd:   mysqletcd.EtcdConfig{Endpoints: endpoints},
		Tables: []mysqletcd.Mapping{{Table: "kv", Key: "/demo/driver/{k}", Value: mysqletcd.ColumnValue("v")}},
	}
	open := func(trace *mysqletcd.PushTrace) (*sql.DB, *mysqletcd.Connector, error) {
		mc, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, nil, err
		}
		inner, err := mysql.NewConnector(mc)
		if err != nil {
			return nil, nil, err
		}
		c := cfg
		c.Trace = trace
		conn, err := mysqletcd.NewConnector(inner, c)
		if err != nil {
			return nil, nil, err
		}
		return sql.OpenDB(conn), conn, nil
	}
	serviceA, connA, err := open(&mysqletcd.PushTrace{RowsRead: func([]string) {
		select {
		case <-hold:
			close(held)
			<-release
		default:
		}
	}})
	if err != nil {
		return "", err
	}
	defer serviceA.Close()
	serviceB, connB, err := open(nil)
	if err != nil {
		return "", err
	}
	defer serviceB.Close()
	if _, err := serviceA.ExecContext(ctx, "REPLACE INTO kv VALUES ('key2', 'val_old')"); err != nil {
		return "", err
	}
	if err := connA.Flush(ctx); err != nil {
		return "", err
	}
	hold <- struct{}{}
	if _, err := serviceA.ExecContext(ctx, "UPDATE kv SET v = 'valA' WHERE k = 'key2'"); err != nil { // A1
		return "", err
	}
	select { // A2 has read the row; its push waits
	case <-held:
	case <-time.After(10 * time.Second):
		return "", fmt.Errorf("service A's push did not start")
	}
	if _, err := serviceB.ExecContext(ctx, "UPDATE kv SET v = 'valB' WHERE k = 'key2'"); err != nil { // B1
		return "", err
	}
	if err := connB.Flush(ctx); err != nil { // B2 has pushed
		return "", err
	}
	close(release) // A's push lands last: its compare fails, it re-reads, it pushes valB
	if err := connA.Flush(ctx); err != nil {
		return "", err
	}
	return get(ctx, cli, "/demo/driver/key2")
}

func get(ctx context.Context, cli *clientv3.Client, key string) (string, error) {
	resp, err := cli.Get(ctx, key)
	if err != nil {
		return "", err
	}
	if len(resp.Kvs) == 0 {
		return "(absent)", nil
	}
	return string(resp.Kvs[0].Value), nil
}
