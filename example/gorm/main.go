// Command gorm writes users with GORM through the mysqletcd driver, which
// keeps each user in etcd as mysqletcd.yaml maps it:
//
//	MYSQLETCD_DSN='app:pw@tcp(127.0.0.1:3306)/app?parseTime=true' MYSQLETCD_CONFIG=mysqletcd.yaml go run .
//
// The only change from plain GORM is the DriverName in mysql.Config.
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"gorm.io/driver/mysql"
	"gorm.io/gorm"

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
	if sqlDB, dbErr := db.DB(); dbErr == nil {
		sqlDB.Close() // pushes what is still queued
	}
	if err != nil {
		log.Fatal(err)
	}
}

// open opens GORM over the mysqletcd driver.
func open(dsn string) (*gorm.DB, error) {
	return gorm.Open(mysql.New(mysql.Config{DriverName: mysqletcd.DriverName, DSN: dsn}), &gorm.Config{})
}
