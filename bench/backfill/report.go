package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func printPhase(out io.Writer, p phase, unit string) {
	cpu := fmt.Sprintf("client %.1f", p.cpu.client)
	if p.cpu.servers {
		cpu += fmt.Sprintf(", etcd %.1f, mariadbd %.1f", p.cpu.etcd, p.cpu.mysql)
	}
	fmt.Fprintf(out, "  %-40s %8d %s %7.1fs %8.0f %s/s   CPU s: %s   RSS max %s\n",
		p.name, p.keys, unit, p.wall.Seconds(), p.rate(), unit, cpu, mib(p.rssMax))
}

func printRun(out io.Writer, res runResult, workers int) {
	fmt.Fprintf(out, "run %d (load average %s at its start, %s at its end)\n", res.n, res.load[0], res.load[1])
	for _, p := range res.raw {
		printPhase(out, p, "keys")
	}
	printPhase(out, res.fill, "rows")
	var ratios []string
	for _, p := range res.raw {
		ratios = append(ratios, fmt.Sprintf("%.2f of %s", res.fill.rate()/p.rate(), p.short))
	}
	fmt.Fprintf(out, "      backfill/raw: %s\n", strings.Join(ratios, ", "))
	s := res.steps
	at := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("%.1fs", t.Sub(s.start).Seconds())
	}
	fmt.Fprintf(out, "      table scan done at %s (%d keys pushed by then: %.0f/s), key scan done at %s, returned (every push landed) at %.1fs\n",
		at(s.rows), s.rowsPushed, s.scanRate(), at(s.keys), res.fill.wall.Seconds())
	pt := res.pushes
	if pt.pushes > 0 {
		busy := float64(workers) * res.fill.wall.Seconds()
		db, swap := pt.dbRead.Seconds(), pt.swap.Seconds()
		fmt.Fprintf(out, "      %d pushes (%d conflicts, %d errors); per push: DB re-read %.1f ms, compare-and-swap %.1f ms;"+
			" of the workers' time: DB %.0f%%, CAS %.0f%%, fence read and waiting %.0f%%\n",
			pt.pushes, pt.conflicts, res.stats.Errors, 1000*db/float64(pt.pushes), 1000*swap/float64(pt.pushes),
			100*db/busy, 100*swap/busy, 100*(busy-db-swap)/busy)
	}
	m := res.fill.marks
	fmt.Fprintf(out, "      RSS at 25/50/75/100%% of the keys pushed: %s / %s / %s / %s\n", mib(m[0]), mib(m[1]), mib(m[2]), mib(m[3]))
	printPhase(out, res.verify, "rows")
	fmt.Fprintln(out)
}

// printSummary prints a Markdown table of every run and the medians.
func printSummary(out io.Writer, runs []runResult, hwm int64) {
	head := "| |"
	rule := "|---|"
	for _, r := range runs {
		head += fmt.Sprintf(" run %d |", r.n)
		rule += "---:|"
	}
	fmt.Fprintln(out, head+" median |")
	fmt.Fprintln(out, rule+"---:|")
	row := func(name, format string, f func(runResult) float64) {
		vals := make([]float64, len(runs))
		line := "| " + name + " |"
		for i, r := range runs {
			vals[i] = f(r)
			line += " " + fmt.Sprintf(format, vals[i]) + " |"
		}
		fmt.Fprintln(out, line+" "+fmt.Sprintf(format, median(vals))+" |")
	}
	for i, p := range runs[0].raw {
		row(p.short+" keys/s", "%.0f", func(r runResult) float64 { return r.raw[i].rate() })
	}
	row("backfill rows/s", "%.0f", func(r runResult) float64 { return r.fill.rate() })
	row("backfill time (s)", "%.1f", func(r runResult) float64 { return r.fill.wall.Seconds() })
	for i, p := range runs[0].raw {
		row("backfill / "+p.short, "%.2f", func(r runResult) float64 { return r.fill.rate() / r.raw[i].rate() })
	}
	row("backfill keys/s pushed during the table scan", "%.0f", func(r runResult) float64 { return r.steps.scanRate() })
	row("verify (dry run) rows/s", "%.0f", func(r runResult) float64 { return r.verify.rate() })
	row("backfill RSS max (MiB)", "%.0f", func(r runResult) float64 { return float64(r.fill.rssMax) / (1 << 20) })
	for q := range 4 {
		row(fmt.Sprintf("RSS at %d%% (MiB)", 25*(q+1)), "%.0f", func(r runResult) float64 { return float64(r.fill.marks[q]) / (1 << 20) })
	}
	// CPU time per key depends far less on what else the machine runs than
	// the rates do.
	phases := func(r runResult) []phase { return append(slices.Clone(r.raw), r.fill, r.verify) }
	for i, p := range phases(runs[0]) {
		perKey := func(cpu func(cpuUse) float64) func(runResult) float64 {
			return func(r runResult) float64 { q := phases(r)[i]; return 1e6 * cpu(q.cpu) / float64(q.keys) }
		}
		row(p.short+" CPU µs/key: client", "%.0f", perKey(func(c cpuUse) float64 { return c.client }))
		if !p.cpu.servers {
			continue
		}
		row(p.short+" CPU µs/key: etcd", "%.0f", perKey(func(c cpuUse) float64 { return c.etcd }))
		row(p.short+" CPU µs/key: mariadbd", "%.0f", perKey(func(c cpuUse) float64 { return c.mysql }))
		row(p.short+" CPU µs/key: total", "%.0f", perKey(func(c cpuUse) float64 { return c.client + c.etcd + c.mysql }))
	}
	fmt.Fprintf(out, "\npeak RSS of the process over the whole program (VmHWM at exit): %s\n", mib(hwm))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
