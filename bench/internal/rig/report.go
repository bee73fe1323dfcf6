package rig

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Median of xs; 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Quantile returns the q-quantile (0..1) of ds by the nearest-rank method;
// 0 for none. It sorts ds.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

// Dur formats a duration with three significant digits.
func Dur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	}
	return sig3(d.Seconds()) + "s"
}

// Num formats a count or rate with three significant digits.
func Num(x float64) string {
	switch {
	case x >= 1e6:
		return sig3(x/1e6) + "M"
	case x >= 1e4:
		return sig3(x/1e3) + "k"
	}
	return sig3(x)
}

// Ratio formats a ratio to two decimals with a trailing ×.
func Ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// Table prints aligned columns to stdout.
type Table struct {
	w *tabwriter.Writer
}

// NewTable prints a title and the header row.
func NewTable(title string, cols ...string) *Table {
	fmt.Printf("\n## %s\n\n", title)
	t := &Table{w: tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)}
	t.Row(toAny(cols)...)
	dashes := make([]any, len(cols))
	for i, c := range cols {
		dashes[i] = strings.Repeat("-", len([]rune(c)))
	}
	t.Row(dashes...)
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// Row adds a row; durations and floats are formatted.
func (t *Table) Row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case time.Duration:
			parts[i] = Dur(v)
		case float64:
			parts[i] = Num(v)
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	fmt.Fprintln(t.w, strings.Join(parts, "\t")+"\t")
}

// Flush prints the table.
func (t *Table) Flush() { t.w.Flush() }

// Note prints a line under a table.
func Note(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// Verdict says whether a target holds: "met" or "NOT met".
func Verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
