package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mysqletcd/mysqletcd"
)

// progressMode says how sync and verify show how far they have got. It is
// a flag.Value that accepts only the known modes.
type progressMode string

const (
	progressAuto  progressMode = "auto"  // bar on a terminal, plain elsewhere
	progressBar   progressMode = "bar"   // one line redrawn in place with \r
	progressPlain progressMode = "plain" // a line at most every interval
	progressNone  progressMode = "none"
)

func (m *progressMode) String() string { return string(*m) }

func (m *progressMode) Set(s string) error {
	switch progressMode(s) {
	case progressAuto, progressBar, progressPlain, progressNone:
		*m = progressMode(s)
		return nil
	}
	return fmt.Errorf("use auto, bar, plain or none")
}

// Redraw and print intervals.
const (
	barRedraw     = 100 * time.Millisecond
	plainInterval = 5 * time.Second
)

// progress shows Reconcile's progress reports on a writer (stderr): as a
// bar redrawn in place, or as a plain line at most every interval. It is
// also the writer for log lines, which it prints above the bar. It is safe
// for concurrent use.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	mode  progressMode // bar, plain or none: never auto
	label string       // plain lines start with it: "mysqletcd sync"
	every time.Duration
	now   func() time.Time
	width int // terminal columns, for the bar

	clock phaseClock
	last  time.Time // when the last line was shown
	line  string    // the bar on screen, "" when none
	shown int       // its width in runes
}

// newProgress returns the display for mode on w; auto is a bar when w is a
// terminal and plain lines otherwise.
func newProgress(inv *invocation, mode progressMode, label string, every time.Duration) *progress {
	if mode == progressAuto {
		mode = progressPlain
		if isTerminal(inv.stderr) {
			mode = progressBar
		}
	}
	p := &progress{w: inv.stderr, mode: mode, label: label, every: every, now: inv.now, width: terminalWidth(inv.getenv)}
	if mode == progressBar {
		p.every = barRedraw
	}
	p.last = p.now() // the first plain line comes one interval in: short runs stay quiet
	return p
}

// report takes one progress report from Reconcile.
func (p *progress) report(r mysqletcd.ReconcileProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := p.clock.observe(r)
	now := p.now()
	switch p.mode {
	case progressBar:
		if !changed && now.Sub(p.last) < p.every {
			return
		}
		p.draw(statusOf(r, p.clock.elapsed()).bar(p.width))
	case progressPlain:
		if now.Sub(p.last) < p.every {
			return
		}
		fmt.Fprintf(p.w, "%s: %s\n", p.label, statusOf(r, p.clock.elapsed()).plain())
	default:
		return
	}
	p.last = now
}

// done takes the bar off the screen.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.erase()
	p.line = ""
}

// Write prints log lines above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := p.line
	p.erase()
	n, err := p.w.Write(b)
	if line != "" {
		p.draw(line)
	}
	return n, err
}

func (p *progress) draw(line string) {
	width := utf8.RuneCountInString(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(0, p.shown-width)))
	p.line, p.shown = line, width
}

func (p *progress) erase() {
	if p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.shown = 0
	}
}

// phaseClock tells how long the current phase of a mapping has run, from
// the elapsed times in the reports: the rows phase starts with the mapping,
// each later phase where the last report of the phase before left off.
type phaseClock struct {
	table, key, phase string
	start, last       time.Duration
}

// observe takes a report and says whether it began a new mapping or phase.
func (c *phaseClock) observe(r mysqletcd.ReconcileProgress) bool {
	changed := true
	switch {
	case r.Table != c.table || r.Key != c.key:
		*c = phaseClock{table: r.Table, key: r.Key, phase: r.Phase}
	case r.Phase != c.phase:
		c.phase, c.start = r.Phase, c.last
	default:
		changed = false
	}
	c.last = r.Elapsed
	return changed
}

func (c *phaseClock) elapsed() time.Duration { return c.last - c.start }

// status is what a progress line says about one report.
type status struct {
	mapping     string // "db.users /app/users/{id}"
	phase       string // "rows", "keys" or "fences"
	done, total int64  // total 0: unknown
	rate        float64
	eta         time.Duration // < 0: unknown
}

// statusOf works out rate and ETA from a report and how long its phase has
// run.
func statusOf(r mysqletcd.ReconcileProgress, elapsed time.Duration) status {
	s := status{mapping: r.Table + " " + r.Key, phase: r.Phase, eta: -1}
	switch r.Phase {
	case "rows":
		s.done, s.total = r.Rows, r.RowsTotal
	case "keys":
		s.done = r.Keys
	}
	if elapsed > 0 {
		s.rate = float64(s.done) / elapsed.Seconds()
	}
	if s.rate > 0 && s.total > s.done {
		s.eta = time.Duration(float64(max(0, s.total-s.done)) / s.rate * float64(time.Second))
	}
	return s
}

// plain is the status as a log line.
func (s status) plain() string {
	if s.phase == "fences" {
		return s.mapping + ": collecting old fences"
	}
	parts := []string{s.counted()}
	if s.rate > 0 {
		parts = append(parts, formatRate(s.rate, s.phase))
	}
	if s.eta >= 0 {
		parts = append(parts, "ETA "+formatETA(s.eta))
	}
	return s.mapping + ": " + strings.Join(parts, ", ")
}

// counted is "rows 450/1000 (45%)", or "keys 300" when there is no total.
func (s status) counted() string {
	if s.total <= 0 {
		return fmt.Sprintf("%s %d", s.phase, s.done)
	}
	return fmt.Sprintf("%s %d/%d (%d%%)", s.phase, s.done, s.total, s.percent())
}

func (s status) percent() int64 {
	if s.total <= 0 {
		return 0
	}
	return min(100, s.done*100/s.total)
}

// bar is the status as one terminal line no wider than width-1 columns.
func (s status) bar(width int) string {
	var rest string
	switch {
	case s.phase == "fences":
		rest = "collecting old fences"
	case s.total > 0:
		const cells = 20
		filled := int(s.percent() * cells / 100)
		head := ""
		if filled < cells {
			head = ">"
		}
		meter := strings.Repeat("=", filled) + head + strings.Repeat(" ", max(0, cells-filled-len(head)))
		rest = fmt.Sprintf("%s [%s] %3d%% %d/%d", s.phase, meter, s.percent(), s.done, s.total)
	default:
		rest = fmt.Sprintf("%s %d", s.phase, s.done)
	}
	if s.rate > 0 && s.phase != "fences" {
		rest += "  " + formatRate(s.rate, s.phase)
	}
	if s.eta >= 0 {
		rest += "  ETA " + formatETA(s.eta)
	}
	room := width - 2 - utf8.RuneCountInString(rest)
	return truncateRunes(truncateRunes(s.mapping, max(room, 12))+" "+rest, width-1)
}

// formatRate is "1234 rows/s", with a decimal below 10.
func formatRate(rate float64, unit string) string {
	if rate < 10 {
		return fmt.Sprintf("%.1f %s/s", rate, unit)
	}
	return fmt.Sprintf("%.0f %s/s", rate, unit)
}

// formatETA is "42s", "3m05s" or "2h07m".
func formatETA(d time.Duration) string {
	secs := int64(d.Round(time.Second) / time.Second)
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", secs)
	case secs < 3600:
		return fmt.Sprintf("%dm%02ds", secs/60, secs%60)
	}
	return fmt.Sprintf("%dh%02dm", secs/3600, secs%3600/60)
}

// truncateRunes shortens s to n runes, the last one an ellipsis.
func truncateRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// terminalWidth is $COLUMNS, or 80.
func terminalWidth(getenv func(string) string) int {
	var n int
	if _, err := fmt.Sscan(getenv("COLUMNS"), &n); err == nil && n >= 20 {
		return n
	}
	return 80
}
