// Command ent writes users with an ent client through the mysqletcd
// driver, which keeps each user in etcd as mysqletcd.yaml maps it:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app?parseTime=true' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The change from plain ent: the client is built over a *sql.DB opened
// with the mysqletcd driver (entsql.OpenDB) rather than by ent.Open.
package main

import (
	"context"
	"database/sql"
	"flag"
	"log"
	"os"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/example/ent/entdb"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("MYSQLETCD_DSN"), "MySQL DSN; the config file comes from its mysqletcd-config parameter or $MYSQLETCD_CONFIG")
	flag.Parse()
	ctx := context.Background()

	client, err := open(*dsn)
	if err != nil {
		log.Fatal(err)
	}
	err = run(ctx, client, func(step string) { log.Printf("%s: done", step) })
	client.Close() // pushes what is still queued
	if err != nil {
		log.Fatal(err)
	}
}

// open opens an ent client over the mysqletcd driver.
func open(dsn string) (*entdb.Client, error) {
	db, err := sql.Open(mysqletcd.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	return entdb.NewClient(entdb.Driver(entsql.OpenDB(dialect.MySQL, db))), nil
}
