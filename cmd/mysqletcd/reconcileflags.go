package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

// reconcileFlags are the flags sync and verify share.
type reconcileFlags struct {
	conn     connFlags
	tables   tableList
	rate     float64
	samples  int
	output   outputFormat
	progress progressMode
	interval time.Duration
}

func (f *reconcileFlags) define(fs *flag.FlagSet) {
	f.conn.define(fs)
	fs.Var(&f.tables, "table", "only the mappings of `TABLE` (table or db.table); repeat the flag\nor separate names with commas (default: every mapping)")
	fs.Float64Var(&f.rate, "rate", 0, "scan at most `N` rows per second, to spare the database\n(0: no limit)")
	fs.IntVar(&f.samples, "samples", 10, "list the first `N` differing keys of each mapping")
	f.output = outputText
	fs.Var(&f.output, "output", "report `FORMAT`: text or json")
	f.progress = progressAuto
	fs.Var(&f.progress, "progress", "progress on stderr, `MODE` auto, bar, plain or none; auto is a\nbar on a terminal and plain lines elsewhere")
	fs.DurationVar(&f.interval, "progress-interval", plainInterval, "`TIME` between plain progress lines")
}

// check rejects values no run can use.
func (f *reconcileFlags) check() error {
	switch {
	case f.rate < 0:
		return usagef("--rate %g: pass a number of rows per second, or 0 for no limit", f.rate)
	case f.samples < 1:
		return usagef("--samples %d: pass 1 or more", f.samples)
	case f.interval <= 0:
		return usagef("--progress-interval %s: pass a positive duration, such as 5s", f.interval)
	}
	return nil
}

// options are the Reconcile options the flags ask for.
func (f *reconcileFlags) options() mysqletcd.ReconcileOptions {
	return mysqletcd.ReconcileOptions{Tables: f.tables, RowsPerSecond: f.rate, Samples: f.samples}
}

// reconcile runs one Reconcile on the flags' target with a progress
// display, then prints the report with write, or as JSON. The report may
// be partial when err is not nil.
func (f *reconcileFlags) reconcile(ctx context.Context, inv *invocation, name string, opts mysqletcd.ReconcileOptions,
	write func(*mysqletcd.ReconcileReport, error)) (*mysqletcd.ReconcileReport, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	t, err := inv.resolve(&f.conn, true)
	if err != nil {
		return nil, err
	}
	show := newProgress(inv, f.progress, "mysqletcd "+name, f.interval)
	conn, err := t.connect(inv, show)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	opts.Progress = show.report
	rep, err := conn.Reconcile(ctx, opts)
	show.done()
	if err == nil {
		err = conn.Close() // waits for the last pushes
	}
	if rep != nil && (err == nil || scannedAny(rep)) {
		if f.output == outputJSON {
			var errText string
			if err != nil {
				errText = inv.redact(explain(err))
			}
			writeJSONReport(inv.stdout, rep, errText)
		} else {
			write(rep, err)
		}
	}
	return rep, err
}

// tableList is a repeatable, comma-separated flag.Value.
type tableList []string

func (l *tableList) String() string { return strings.Join(*l, ",") }

func (l *tableList) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return fmt.Errorf("empty table name: pass --table users or --table app.users")
		}
		*l = append(*l, name)
	}
	return nil
}

// outputFormat is the format of sync's and verify's report.
type outputFormat string

const (
	outputText outputFormat = "text"
	outputJSON outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }

func (o *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputText, outputJSON:
		*o = outputFormat(s)
		return nil
	}
	return fmt.Errorf("use text or json")
}

// scannedAny says whether a run read anything: a run that failed before it
// did has no report worth printing.
func scannedAny(rep *mysqletcd.ReconcileReport) bool {
	for _, m := range rep.Mappings {
		if m.RowsScanned > 0 || m.KeysScanned > 0 {
			return true
		}
	}
	return false
}
