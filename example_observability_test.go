package mysqletcd_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

// A request that writes, then reads what it wrote from etcd (or tells a
// client that watches etcd to look), waits for its own commit's keys.
func ExampleWithPushWaiter() {
	dsn, endpoints, cleanup := exampleServers()
	defer cleanup()
	mc, _ := mysql.ParseDSN(dsn)
	inner, _ := mysql.NewConnector(mc)
	db := mysqletcd.OpenDB(inner, mysqletcd.Config{
		Etcd:   mysqletcd.EtcdConfig{Endpoints: endpoints},
		Tables: []mysqletcd.Mapping{{Table: "users", Key: "/app/users/{id}", Value: mysqletcd.ColumnValue("name")}},
	})
	defer db.Close()

	ctx, w := mysqletcd.WithPushWaiter(context.Background())
	tx, err := db.BeginTx(ctx, nil) // the transaction's keys join w when it commits
	if err != nil {
		log.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (7, 'ann')"); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.Wait(waitCtx); err != nil {
		// The commit stands; only the wait ended (etcd is slow or down).
		log.Print("etcd is behind: ", err)
	}

	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
	defer cli.Close()
	resp, _ := cli.Get(ctx, "/app/users/7")
	fmt.Printf("%s\n", resp.Kvs[0].Value)
	// Output: ann
}

// Config.Metrics takes the registry to register the metrics on; serve it
// with promhttp.HandlerFor(reg, promhttp.HandlerOpts{}). ConnectorOf reaches
// the Connector behind a handle, here for Flush.
func Example_metrics() {
	dsn, endpoints, cleanup := exampleServers()
	defer cleanup()
	reg := prometheus.NewRegistry()
	mc, _ := mysql.ParseDSN(dsn)
	inner, _ := mysql.NewConnector(mc)
	db := mysqletcd.OpenDB(inner, mysqletcd.Config{
		Etcd:    mysqletcd.EtcdConfig{Endpoints: endpoints},
		Tables:  []mysqletcd.Mapping{{Table: "users", Key: "/app/users/{id}", Value: mysqletcd.ColumnValue("name")}},
		Metrics: reg,
	})
	defer db.Close()

	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (7, 'ann'), (8, 'bob')"); err != nil {
		log.Fatal(err)
	}
	c, _ := mysqletcd.ConnectorOf(db)
	if err := c.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	families, _ := reg.Gather()
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			switch name := mf.GetName() + "{" + strings.Join(labels, ",") + "}"; {
			case m.GetCounter().GetValue() > 0:
				fmt.Println(name, m.GetCounter().GetValue())
			case m.GetHistogram().GetSampleCount() > 0:
				fmt.Println(name, "observations:", m.GetHistogram().GetSampleCount())
			}
		}
	}
	// Output:
	// mysqletcd_keys_captured_total{table="example.users"} 2
	// mysqletcd_push_latency_seconds{table="example.users"} observations: 2
	// mysqletcd_pushes_total{outcome="put",table="example.users"} 2
}
