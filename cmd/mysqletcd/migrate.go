package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/mysqletcd/mysqletcd"
)

func migrateCommand() *command {
	return &command{
		name:     "migrate",
		summary:  "create what durable mode needs in the database (the outbox table)",
		synopsis: "migrate [--print] [flags]",
		about: `
Creates the outbox table that durable mode (durable: true) writes captured
keys to, named by the config's outbox-table (default mysqletcd_outbox, in
the DSN's database), when it does not exist. Run it as a user who may create
tables when the app's user may not; the app's user then needs SELECT, INSERT
and DELETE on it. With --print it prints the CREATE TABLE statement instead
and needs no database.`,
		examples: `  mysqletcd migrate --dsn 'admin:secret@tcp(db:3306)/app' --config /etc/app/mysqletcd.yaml

  # review the DDL first
  mysqletcd migrate --print --config /etc/app/mysqletcd.yaml`,
		define: func(fs *flag.FlagSet, inv *invocation) action {
			var conn connFlags
			conn.define(fs)
			printOnly := fs.Bool("print", false, "print the CREATE TABLE statement and do nothing")
			return func(ctx context.Context) error {
				t, err := inv.resolve(&conn, !*printOnly)
				if err != nil {
					return err
				}
				table := t.cfg.WithDefaults().OutboxTable
				if *printOnly {
					fmt.Fprintf(inv.stdout, "%s;\n", mysqletcd.OutboxDDL(table))
					return nil
				}
				c, err := t.connect(inv, inv.stderr)
				if err != nil {
					return err
				}
				defer c.Close()
				if err := c.Migrate(ctx); err != nil {
					return err
				}
				fmt.Fprintf(inv.stdout, "outbox table %s is in place\n", table)
				return nil
			}
		},
	}
}
