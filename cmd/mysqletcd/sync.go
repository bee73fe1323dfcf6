package main

import (
	"context"
	"flag"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

func syncCommand() *command {
	return &command{
		name:     "sync",
		summary:  "backfill etcd from the mapped tables and fix every key that differs",
		synopsis: "sync [--table TABLE]... [--dry-run] [--rate N] [--fence-grace TIME] [--samples N] [flags]",
		about: `
Scans each mapped table by its unique key and each mapping's key prefix in
etcd, and pushes every missing, stale or orphan key through the driver's
fenced compare-and-swap, so it is safe beside live writers in any number of
processes. Then collects the fences of keys that have been absent for
--fence-grace. Use it to backfill rows written before the driver was in
place, and as a periodic anti-entropy pass for writes made without it.

Progress goes to stderr: a bar on a terminal, a plain line every
--progress-interval elsewhere. The summary goes to stdout: per mapping and
in total, rows scanned, keys put, deleted and unchanged, fences collected,
and the time taken. Keys that differed and were fixed are a success (exit 0).
With --dry-run nothing is written and the summary is verify's drift report.`,
		examples: `  # backfill every mapping
  mysqletcd sync --dsn 'app:secret@tcp(db:3306)/app' --config /etc/app/mysqletcd.yaml

  # one table, gently, from cron: plain progress lines, summary as JSON
  mysqletcd sync --table users --rate 2000 --progress plain --output json

  # what would change, without writing
  mysqletcd sync --dry-run`,
		define: func(fs *flag.FlagSet, inv *invocation) action {
			var f reconcileFlags
			f.define(fs)
			dryRun := fs.Bool("dry-run", false, "report what differs and write nothing")
			grace := fs.Duration("fence-grace", 10*time.Minute, "collect fences of keys absent and unchanged for `TIME`\n(0: collect none; a run learns ages from the run before)")
			return func(ctx context.Context) error {
				if *grace < 0 {
					return usagef("--fence-grace %s: pass a duration such as 10m, or 0 to collect no fences", *grace)
				}
				opts := f.options()
				opts.DryRun = *dryRun
				opts.FenceGrace = *grace
				if *grace == 0 {
					opts.FenceGrace = -1 // the library's 0 means its default
				}
				_, err := f.reconcile(ctx, inv, "sync", opts, func(rep *mysqletcd.ReconcileReport, err error) {
					if rep.DryRun {
						writeDriftReport(inv.stdout, rep, err, true)
					} else {
						writeSyncSummary(inv.stdout, rep, err)
					}
				})
				return err
			}
		},
	}
}
