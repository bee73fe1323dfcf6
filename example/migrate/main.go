// Command migrate applies the SQL migrations in ./migrations with
// golang-migrate through the mysqletcd driver, so that the rows a data
// migration writes reach etcd as mysqletcd.yaml maps them:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app?multiStatements=true' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The change from golang-migrate over the mysql driver: the *sql.DB comes
// from sql.Open("mysqletcd", ...) and goes to mysql.WithInstance, rather
// than a mysql:// URL. golang-migrate's mysql driver wants multiStatements.
package main

import (
	"database/sql"
	"embed"
	"errors"
	"flag"
	"log"
	"os"

	"github.com/golang-migrate/migrate/v4"
	migratemysql "github.com/golang-migrate/migrate/v4/database/mysql"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/mysqletcd/mysqletcd"
)

//go:embed migrations/*.sql
var migrations embed.FS

func main() {
	dsn := flag.String("dsn", os.Getenv("MYSQLETCD_DSN"), "MySQL DSN; the config file comes from its mysqletcd-config parameter or $MYSQLETCD_CONFIG")
	flag.Parse()

	db, err := sql.Open(mysqletcd.DriverName, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	err = up(db, 0)
	db.Close() // pushes what is still queued
	if err != nil {
		log.Fatal(err)
	}
}

// up applies the migrations over db: all of them, or up to version when
// it is not 0.
func up(db *sql.DB, version uint) error {
	drv, err := migratemysql.WithInstance(db, &migratemysql.Config{})
	if err != nil {
		return err
	}
	src, err := iofs.New(migrations, "migrations")
	if err != nil {
		return err
	}
	m, err := migrate.NewWithInstance("iofs", src, "mysql", drv)
	if err != nil {
		return err
	}
	if version != 0 {
		err = m.Migrate(version)
	} else {
		err = m.Up()
	}
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	return err
}
