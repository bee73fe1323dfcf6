package main

import (
	"database/sql"

	"github.com/XSAM/otelsql"
	"github.com/go-sql-driver/mysql"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/mysqletcd/mysqletcd"
)

// openConnector opens a traced handle over a mysqletcd Connector: for an
// app that builds its Config in Go, or wants Connector.Flush and
// Connector.Stats. The handle's Close closes the Connector, which pushes
// what is still queued.
func openConnector(mc *mysql.Config, cfg mysqletcd.Config, opts ...otelsql.Option) (*sql.DB, *mysqletcd.Connector, error) {
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, nil, err
	}
	conn, err := mysqletcd.NewConnector(inner, cfg)
	if err != nil {
		return nil, nil, err
	}
	opts = append([]otelsql.Option{otelsql.WithAttributes(semconv.DBSystemNameMySQL)}, opts...)
	return otelsql.OpenDB(conn, opts...), conn, nil
}
