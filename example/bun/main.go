// Command bun writes users with bun through the mysqletcd driver, which
// keeps each user in etcd as mysqletcd.yaml maps it:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The only change from plain bun is the driver name in sql.Open.
package main

import (
	"context"
	"database/sql"
	"flag"
	"log"
	"os"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"

	"github.com/mysqletcd/mysqletcd"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("MYSQLETCD_DSN"), "MySQL DSN; the config file comes from its mysqletcd-config parameter or $MYSQLETCD_CONFIG")
	flag.Parse()
	ctx := context.Background()

	db, err := open(*dsn)
	if err != nil {
		log.Fatal(err)
	}
	err = run(ctx, db, func(step string) { log.Printf("%s: done", step) })
	db.Close() // pushes what is still queued
	if err != nil {
		log.Fatal(err)
	}
}

// open opens bun over the mysqletcd driver.
func open(dsn string) (*bun.DB, error) {
	sqldb, err := sql.Open(mysqletcd.DriverName, dsn)
	if err != nil {
		return nil, err
	}
	return bun.NewDB(sqldb, mysqldialect.New()), nil
}
