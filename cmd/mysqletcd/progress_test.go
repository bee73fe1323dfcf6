package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// newTestProgress is a display in mode on a buffer with a fake clock.
func newTestProgress(mode progressMode, every time.Duration) (*progress, *bytes.Buffer, *fakeClock) {
	var buf bytes.Buffer
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	inv := newInvocation(nil, &buf)
	inv.now = clock.now
	inv.getenv = func(name string) string {
		if name == "COLUMNS" {
			return "200"
		}
		return ""
	}
	return newProgress(inv, mode, "mysqletcd sync", every), &buf, clock
}

func rowsReport(rows, total int64, elapsed time.Duration) mysqletcd.ReconcileProgress {
	return mysqletcd.ReconcileProgress{Table: "app.users", Key: "/app/users/{id}", Phase: "rows", Rows: rows, RowsTotal: total, Elapsed: elapsed}
}

func TestStatusWorksOutRateAndETA(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       mysqletcd.ReconcileProgress
		elapsed time.Duration
		plain   string
	}{
		{"rows with a total", rowsReport(2500, 10000, 2*time.Second), 2 * time.Second,
			"app.users /app/users/{id}: rows 2500/10000 (25%), 1250 rows/s, ETA 6s"},
		{"slow rows, ETA in minutes", rowsReport(30, 1000, 10*time.Second), 10 * time.Second,
			"app.users /app/users/{id}: rows 30/1000 (3%), 3.0 rows/s, ETA 5m23s"},
		{"ETA in hours", rowsReport(1000, 10_000_000, 1*time.Second), 1 * time.Second,
			"app.users /app/users/{id}: rows 1000/10000000 (0%), 1000 rows/s, ETA 2h46m"},
		{"done: no ETA", rowsReport(10000, 10000, 4*time.Second), 4 * time.Second,
			"app.users /app/users/{id}: rows 10000/10000 (100%), 2500 rows/s"},
		{"more rows than counted", rowsReport(120, 100, time.Second), time.Second,
			"app.users /app/users/{id}: rows 120/100 (100%), 120 rows/s"},
		{"no total", rowsReport(40, 0, 4*time.Second), 4 * time.Second,
			"app.users /app/users/{id}: rows 40, 10 rows/s"},
		{"no time yet", rowsReport(0, 100, 0), 0,
			"app.users /app/users/{id}: rows 0/100 (0%)"},
		{"keys", mysqletcd.ReconcileProgress{Table: "app.users", Key: "/app/users/{id}", Phase: "keys", Keys: 900, Elapsed: 5 * time.Second}, 3 * time.Second,
			"app.users /app/users/{id}: keys 900, 300 keys/s"},
		{"fences", mysqletcd.ReconcileProgress{Table: "app.users", Key: "/app/users/{id}", Phase: "fences"}, time.Second,
			"app.users /app/users/{id}: collecting old fences"},
	} {
		if got := statusOf(tc.r, tc.elapsed).plain(); got != tc.plain {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.plain)
		}
	}
}

func TestBarFitsTheTerminal(t *testing.T) {
	s := statusOf(rowsReport(2500, 10000, 2*time.Second), 2*time.Second)
	want := "app.users /app/users/{id} rows [=====>              ]  25% 2500/10000  1250 rows/s  ETA 6s"
	if got := s.bar(120); got != want {
		t.Errorf("bar(120):\n got %q\nwant %q", got, want)
	}
	for _, width := range []int{80, 60, 40} {
		if got := s.bar(width); len([]rune(got)) > width-1 || !strings.Contains(got, "…") {
			t.Errorf("bar(%d) = %q (%d runes): want it cut to %d with an ellipsis", width, got, len([]rune(got)), width-1)
		}
	}
	full := statusOf(rowsReport(10, 10, time.Second), time.Second).bar(120)
	if !strings.Contains(full, "[====================] 100% 10/10") {
		t.Errorf("a full bar = %q", full)
	}
}

func TestPhaseClockTimesEachPhaseFromWhereTheLastEnded(t *testing.T) {
	var c phaseClock
	steps := []struct {
		r       mysqletcd.ReconcileProgress
		changed bool
		elapsed time.Duration
	}{
		{mysqletcd.ReconcileProgress{Table: "a", Key: "k", Phase: "rows", Elapsed: time.Second}, true, time.Second},
		{mysqletcd.ReconcileProgress{Table: "a", Key: "k", Phase: "rows", Elapsed: 3 * time.Second}, false, 3 * time.Second},
		{mysqletcd.ReconcileProgress{Table: "a", Key: "k", Phase: "keys", Elapsed: 4 * time.Second}, true, time.Second},
		{mysqletcd.ReconcileProgress{Table: "a", Key: "k", Phase: "keys", Elapsed: 7 * time.Second}, false, 4 * time.Second},
		{mysqletcd.ReconcileProgress{Table: "b", Key: "k", Phase: "rows", Elapsed: 2 * time.Second}, true, 2 * time.Second},
	}
	for i, s := range steps {
		if changed := c.observe(s.r); changed != s.changed || c.elapsed() != s.elapsed {
			t.Errorf("step %d: changed %v, elapsed %s; want %v, %s", i, changed, c.elapsed(), s.changed, s.elapsed)
		}
	}
}

func TestPlainProgressPrintsAtMostOneLinePerInterval(t *testing.T) {
	p, buf, clock := newTestProgress(progressPlain, 5*time.Second)
	p.report(rowsReport(100, 1000, time.Second)) // before the first interval: quiet
	if buf.Len() != 0 {
		t.Fatalf("plain progress printed before an interval had passed: %q", buf.String())
	}
	clock.advance(5 * time.Second)
	p.report(rowsReport(500, 1000, 5*time.Second))
	clock.advance(time.Second)
	p.report(rowsReport(600, 1000, 6*time.Second)) // too soon
	clock.advance(4 * time.Second)
	p.report(rowsReport(1000, 1000, 10*time.Second))
	p.done()
	want := "mysqletcd sync: app.users /app/users/{id}: rows 500/1000 (50%), 100 rows/s, ETA 5s\n" +
		"mysqletcd sync: app.users /app/users/{id}: rows 1000/1000 (100%), 100 rows/s\n"
	if buf.String() != want {
		t.Errorf("plain progress:\n got %q\nwant %q", buf.String(), want)
	}
}

func TestBarRedrawsInPlaceAndKeepsLogLinesAboveIt(t *testing.T) {
	p, buf, clock := newTestProgress(progressBar, 0)
	p.report(rowsReport(500, 1000, time.Second))
	clock.advance(10 * time.Millisecond)
	p.report(rowsReport(600, 1000, time.Second)) // within the redraw interval: skipped
	clock.advance(time.Second)
	p.report(rowsReport(1000, 1000, 2*time.Second))
	first := "app.users /app/users/{id} rows [==========>         ]  50% 500/1000  500 rows/s  ETA 1s"
	second := "app.users /app/users/{id} rows [====================] 100% 1000/1000  500 rows/s"
	want := "\r" + first + "\r" + second + strings.Repeat(" ", len(first)-len(second))
	if buf.String() != want {
		t.Fatalf("bar:\n got %q\nwant %q", buf.String(), want)
	}

	buf.Reset()
	p.Write([]byte("level=WARN msg=\"mysqletcd: sync error\"\n"))
	blank := "\r" + strings.Repeat(" ", len(second)) + "\r"
	if want := blank + "level=WARN msg=\"mysqletcd: sync error\"\n\r" + second; buf.String() != want {
		t.Errorf("a log line under the bar:\n got %q\nwant %q", buf.String(), want)
	}
	buf.Reset()
	p.done()
	if buf.String() != blank {
		t.Errorf("done left %q, want the bar erased", buf.String())
	}
}

func TestProgressNonePrintsNothing(t *testing.T) {
	p, buf, clock := newTestProgress(progressNone, time.Nanosecond)
	clock.advance(time.Hour)
	p.report(rowsReport(1, 2, time.Second))
	p.done()
	if buf.Len() != 0 {
		t.Errorf("--progress none printed %q", buf.String())
	}
}

func TestAutoProgressIsPlainWhenStderrIsNotATerminal(t *testing.T) {
	p, _, _ := newTestProgress(progressAuto, time.Second)
	if p.mode != progressPlain {
		t.Errorf("auto on a buffer = %s, want plain", p.mode)
	}
}

func TestFormatETA(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1400 * time.Millisecond: "1s", 59 * time.Second: "59s", 61 * time.Second: "1m01s",
		3599 * time.Second: "59m59s", 3600 * time.Second: "1h00m", 26*time.Hour + 5*time.Minute: "26h05m",
	} {
		if got := formatETA(d); got != want {
			t.Errorf("formatETA(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestTerminalWidthComesFromCOLUMNS(t *testing.T) {
	for value, want := range map[string]int{"": 80, "132": 132, "wide": 80, "5": 80} {
		if got := terminalWidth(func(string) string { return value }); got != want {
			t.Errorf("COLUMNS=%q: width %d, want %d", value, got, want)
		}
	}
}
