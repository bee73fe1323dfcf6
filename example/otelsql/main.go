// Command otelsql traces its database/sql calls with otelsql over the
// mysqletcd driver, which keeps each user in etcd as mysqletcd.yaml maps it:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The spans go to the global tracer provider (otel.SetTracerProvider).
// The only change from otelsql over the mysql driver is the driver name.
package main

import (
	"context"
	"database/sql"
	"flag"
	"log"
	"os"

	"github.com/XSAM/otelsql"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

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

// open opens a traced handle over the mysqletcd driver, by name.
func open(dsn string, opts ...otelsql.Option) (*sql.DB, error) {
	opts = append([]otelsql.Option{otelsql.WithAttributes(semconv.DBSystemNameMySQL)}, opts...)
	return otelsql.Open(mysqletcd.DriverName, dsn, opts...)
}
