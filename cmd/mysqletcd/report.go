package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

// writeSyncSummary prints what a sync did: per mapping and in total, rows
// scanned, keys put, deleted and unchanged, fences collected; then the time.
func writeSyncSummary(w io.Writer, rep *mysqletcd.ReconcileReport, err error) {
	writeTable(w, rep, "PUT\tDELETED\tUNCHANGED\tFENCES", func(m mysqletcd.MappingReport) []int64 {
		return []int64{m.Put, m.Deleted, m.Unchanged, m.FencesCollected}
	})
	if err != nil {
		return
	}
	total := totalOf(rep)
	fmt.Fprintf(w, "\nsynced %s in %s: %s scanned, %s put, %d deleted, %d unchanged, %s collected\n",
		plural(len(rep.Mappings), "mapping"), roundDuration(rep.Elapsed), plural64(total.RowsScanned, "row"),
		plural64(total.Put, "key"), total.Deleted, total.Unchanged, plural64(total.FencesCollected, "fence"))
}

// writeDriftReport prints what a dry run found: per mapping and in total,
// rows and keys scanned and the keys that differ by kind, then the first
// differing keys of each mapping. The last line says what sync --dry-run
// would write (forSync) or how many keys differ (verify).
func writeDriftReport(w io.Writer, rep *mysqletcd.ReconcileReport, err error, forSync bool) {
	writeTable(w, rep, "MISSING\tSTALE\tORPHANS\tIN SYNC", func(m mysqletcd.MappingReport) []int64 {
		return []int64{m.Missing, m.Stale, m.Orphans, m.Unchanged}
	})
	total := totalOf(rep)
	for _, m := range rep.Mappings {
		writeSamples(w, m)
	}
	if err != nil {
		return
	}
	checked := fmt.Sprintf("%s checked in %s", plural(len(rep.Mappings), "mapping"), roundDuration(rep.Elapsed))
	switch {
	case total.Drift() == 0:
		fmt.Fprintf(w, "\nin sync: %s, %s; %s\n", plural64(total.RowsScanned, "row"), plural64(total.KeysScanned, "key"), checked)
	case forSync:
		fmt.Fprintf(w, "\ndry run, nothing written: %s would be put, %d deleted; %s\n", plural64(total.Missing+total.Stale, "key"), total.Orphans, checked)
	default:
		fmt.Fprintf(w, "\n%s from the database; %s\n", differ(total.Drift()), checked)
	}
}

// writeTable prints a row per mapping and a TOTAL row: table, key, rows and
// keys scanned, then the counts that cells picks under the columns heads.
func writeTable(w io.Writer, rep *mysqletcd.ReconcileReport, heads string, cells func(mysqletcd.MappingReport) []int64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TABLE\tKEY\tROWS\tKEYS\t%s\n", heads)
	row := func(table, key string, m mysqletcd.MappingReport) {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d", table, key, m.RowsScanned, m.KeysScanned)
		for _, n := range cells(m) {
			fmt.Fprintf(tw, "\t%d", n)
		}
		fmt.Fprintln(tw)
	}
	for _, m := range rep.Mappings {
		row(m.Table, m.Key, m)
	}
	row("TOTAL", "", totalOf(rep))
	tw.Flush()
}

// writeSamples lists a mapping's first differing keys and their kind.
func writeSamples(w io.Writer, m mysqletcd.MappingReport) {
	if m.Drift() == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s %s: %s\n", m.Table, m.Key, differ(m.Drift()))
	for _, d := range m.Samples {
		fmt.Fprintf(w, "  %-8s %s\n", d.Kind, printable(d.Key))
	}
	if more := m.Drift() - int64(len(m.Samples)); more > 0 {
		fmt.Fprintf(w, "  ... and %d more (--samples lists more)\n", more)
	}
}

// totalOf adds up the mappings' counts.
func totalOf(rep *mysqletcd.ReconcileReport) mysqletcd.MappingReport {
	var t mysqletcd.MappingReport
	for _, m := range rep.Mappings {
		t.RowsScanned += m.RowsScanned
		t.KeysScanned += m.KeysScanned
		t.Missing += m.Missing
		t.Stale += m.Stale
		t.Orphans += m.Orphans
		t.Put += m.Put
		t.Deleted += m.Deleted
		t.Unchanged += m.Unchanged
		t.FencesCollected += m.FencesCollected
	}
	return t
}

// jsonReport is the --output json form of a report.
type jsonReport struct {
	DryRun         bool          `json:"dry_run"`
	Drift          int64         `json:"drift"`
	ElapsedSeconds float64       `json:"elapsed_seconds"`
	Error          string        `json:"error,omitempty"`
	Mappings       []jsonMapping `json:"mappings"`
	Total          jsonCounts    `json:"total"`
}

type jsonMapping struct {
	Table string `json:"table"`
	Key   string `json:"key"`
	jsonCounts
	Samples []jsonDrift `json:"samples"`
}

type jsonCounts struct {
	RowsScanned     int64 `json:"rows_scanned"`
	KeysScanned     int64 `json:"keys_scanned"`
	Missing         int64 `json:"missing"`
	Stale           int64 `json:"stale"`
	Orphans         int64 `json:"orphans"`
	Put             int64 `json:"put"`
	Deleted         int64 `json:"deleted"`
	Unchanged       int64 `json:"unchanged"`
	FencesCollected int64 `json:"fences_collected"`
}

type jsonDrift struct {
	Key  string `json:"key"`
	Kind string `json:"kind"`
}

func countsOf(m mysqletcd.MappingReport) jsonCounts {
	return jsonCounts{
		RowsScanned: m.RowsScanned, KeysScanned: m.KeysScanned,
		Missing: m.Missing, Stale: m.Stale, Orphans: m.Orphans,
		Put: m.Put, Deleted: m.Deleted, Unchanged: m.Unchanged, FencesCollected: m.FencesCollected,
	}
}

// writeJSONReport prints the report as one JSON document; errText, if
// any, is its error field.
func writeJSONReport(w io.Writer, rep *mysqletcd.ReconcileReport, errText string) {
	out := jsonReport{
		DryRun: rep.DryRun, Drift: rep.Drift(), ElapsedSeconds: rep.Elapsed.Seconds(),
		Error: errText, Mappings: []jsonMapping{}, Total: countsOf(totalOf(rep)),
	}
	for _, m := range rep.Mappings {
		jm := jsonMapping{Table: m.Table, Key: m.Key, jsonCounts: countsOf(m), Samples: []jsonDrift{}}
		for _, d := range m.Samples {
			jm.Samples = append(jm.Samples, jsonDrift{Key: d.Key, Kind: string(d.Kind)})
		}
		out.Mappings = append(out.Mappings, jm)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func plural(n int, noun string) string { return plural64(int64(n), noun) }

// plural64 is "1 key" or "3 keys".
func plural64(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// differ is "1 key differs" or "3 keys differ".
func differ(n int64) string {
	if n == 1 {
		return "1 key differs"
	}
	return plural64(n, "key") + " differ"
}

// roundDuration keeps three significant places: 215ms, 1.23s, 2m3s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}
