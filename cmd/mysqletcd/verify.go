package main

import (
	"context"
	"flag"

	"github.com/mysqletcd/mysqletcd"
)

func verifyCommand() *command {
	return &command{
		name:     "verify",
		summary:  "report the keys that differ from the database; exit 1 if any do",
		synopsis: "verify [--table TABLE]... [--samples N] [--output text|json] [flags]",
		about: `
Compares each mapped table with its keys in etcd, as sync --dry-run does, and
writes nothing. Prints, per mapping and in total, the rows and keys scanned
and how many keys are missing (the row exists, the key does not), stale (the
key holds another value than the row gives) or orphans (the key exists, no
matching row does), then the first --samples differing keys of each mapping.
A key whose push is in flight during the run is looked at again before it
counts as drift.

Exits 1 when any key differs and 0 when none does, for cron jobs and
monitoring; 'mysqletcd sync' fixes what it reports.`,
		examples: `  # from cron: mail the report when etcd has drifted
  mysqletcd verify --progress none > /tmp/drift.txt || mail -s 'etcd drift' ops < /tmp/drift.txt

  # machine-readable, one table
  mysqletcd verify --table app.users --output json

  # list up to 100 differing keys per mapping
  mysqletcd verify --samples 100`,
		define: func(fs *flag.FlagSet, inv *invocation) action {
			var f reconcileFlags
			f.define(fs)
			return func(ctx context.Context) error {
				opts := f.options()
				opts.DryRun = true
				rep, err := f.reconcile(ctx, inv, "verify", opts, func(rep *mysqletcd.ReconcileReport, err error) {
					writeDriftReport(inv.stdout, rep, err, false)
				})
				if err == nil && rep.Drift() > 0 {
					return errDrift
				}
				return err
			}
		},
	}
}
