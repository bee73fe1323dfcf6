package mysqletcd_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// The quick start: the app changes only the driver name; the DSN names the
// config file.
func Example() {
	db, err := sql.Open("mysqletcd", "app:pw@tcp(db:3306)/app?mysqletcd-config=/etc/app/mysqletcd.yaml")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // pushes what is still queued

	// Writes to mapped tables reach etcd after commit.
	_, err = db.Exec("UPDATE users SET email = ? WHERE id = ?", "ann@example.com", 7)
	if err != nil {
		log.Fatal(err)
	}
}

// OpenDB takes a mysql connector (which keeps its TLS config and dialer)
// and a Config built in Go.
func ExampleOpenDB() {
	dsn, endpoints, cleanup := exampleServers()
	defer cleanup()

	mc, _ := mysql.ParseDSN(dsn)
	inner, _ := mysql.NewConnector(mc)
	conn, err := mysqletcd.NewConnector(inner, mysqletcd.Config{
		Etcd: mysqletcd.EtcdConfig{Endpoints: endpoints},
		Tables: []mysqletcd.Mapping{{
			Table: "users", Key: "/app/users/{id}", Value: mysqletcd.JSONValue, Columns: []string{"id", "name"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()

	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (7, 'ann')"); err != nil {
		log.Fatal(err)
	}
	if err := conn.Flush(ctx); err != nil { // wait for the push, for the example's sake
		log.Fatal(err)
	}

	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
	defer cli.Close()
	resp, _ := cli.Get(ctx, "/app/users/7")
	fmt.Printf("%s\n", resp.Kvs[0].Value)
	// Output: {"id":7,"name":"ann"}
}

// Reconcile backfills rows that were in MySQL before the driver, reports
// drift with DryRun, and repairs writes that bypassed the driver.
func ExampleConnector_Reconcile() {
	dsn, endpoints, cleanup := exampleServers()
	defer cleanup()
	plain, _ := sql.Open("mysql", dsn)
	defer plain.Close()
	plain.Exec("INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')")

	mc, _ := mysql.ParseDSN(dsn)
	inner, _ := mysql.NewConnector(mc)
	conn, err := mysqletcd.NewConnector(inner, mysqletcd.Config{
		Etcd:   mysqletcd.EtcdConfig{Endpoints: endpoints},
		Tables: []mysqletcd.Mapping{{Table: "users", Key: "/app/users/{id}", Value: mysqletcd.ColumnValue("name")}},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()

	drift, err := conn.Reconcile(ctx, mysqletcd.ReconcileOptions{DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("before:", drift.Drift(), "keys differ;", drift.Mappings[0].Samples[0].Kind, drift.Mappings[0].Samples[0].Key)

	done, err := conn.Reconcile(ctx, mysqletcd.ReconcileOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sync: put", done.Mappings[0].Put)

	after, _ := conn.Reconcile(ctx, mysqletcd.ReconcileOptions{DryRun: true})
	fmt.Println("after:", after.Drift(), "keys differ")
	// Output:
	// before: 3 keys differ; missing /app/users/1
	// sync: put 3
	// after: 0 keys differ
}

// ExampleParseConfig shows the config file's format.
func ExampleParseConfig() {
	cfg, err := mysqletcd.ParseConfig([]byte(`
etcd:
  endpoints: [127.0.0.1:2379]
tables:
  - table: users
    key: /app/users/{id}
    value: json
    columns: [id, name, email]
    where: deleted_at IS NULL
  - table: users
    key: /app/users-by-name/{name}
    value: {column: email}
`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Validate())
	for _, m := range cfg.Tables {
		fmt.Printf("%s %s value=%+v\n", m.Table, m.Key, m.Value)
	}
	// Output:
	// <nil>
	// users /app/users/{id} value={Column:}
	// users /app/users-by-name/{name} value={Column:email}
}

// exampleServers starts a private MariaDB with a users table and an
// in-process etcd for the runnable examples.
func exampleServers() (dsn string, endpoints []string, cleanup func()) {
	ctx := context.Background()
	db, err := testenv.StartMariaDB(ctx)
	if err != nil {
		log.Fatal(err)
	}
	etcd, err := testenv.StartEtcd(ctx, 1)
	if err != nil {
		log.Fatal(err)
	}
	if dsn, err = db.CreateDatabase(ctx, "example"); err != nil {
		log.Fatal(err)
	}
	plain, _ := sql.Open("mysql", dsn)
	defer plain.Close()
	if _, err := plain.Exec("CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL)"); err != nil {
		log.Fatal(err)
	}
	return dsn, etcd.Endpoints(), func() { etcd.Close(); db.Close() }
}
