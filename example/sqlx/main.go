// Command sqlx writes users with sqlx through the mysqletcd driver, which
// keeps each user in etcd as mysqletcd.yaml maps it:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app?parseTime=true' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The changes from plain sqlx: the driver name, and telling sqlx that the
// driver takes '?' placeholders.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/jmoiron/sqlx"

	"github.com/mysqletcd/mysqletcd"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("MYSQLETCD_DSN"), "MySQL DSN; the config file comes from its mysqletcd-config parameter or $MYSQLETCD_CONFIG")
	flag.Parse()

	db, err := open(*dsn)
	if err != nil {
		log.Fatal(err)
	}
	err = run(context.Background(), db, func(step string) { log.Printf("%s: done", step) })
	db.Close() // pushes what is still queued
	if err != nil {
		log.Fatal(err)
	}
}

// open opens sqlx over the mysqletcd driver.
func open(dsn string) (*sqlx.DB, error) {
	sqlx.BindDriver(mysqletcd.DriverName, sqlx.QUESTION)
	return sqlx.Open(mysqletcd.DriverName, dsn)
}
