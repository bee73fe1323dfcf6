package mysqletcd

import (
	"database/sql/driver"
	"strconv"
	"testing"
)

// classifyCases are the statement shapes an app sends most: a read, a write
// to a table no mapping names, and a mapped UPDATE whose WHERE pins the keys
// (every key column of both users mappings: no round trip) or only the id
// (the name key needs a before-image).
var classifyCases = []struct {
	name string
	text string
	args []driver.NamedValue
}{
	{"read", "SELECT id, name, email FROM users WHERE id = ?", namedArgs(int64(7))},
	{"unmapped-write", "UPDATE audit SET note = ? WHERE id = ?", namedArgs("n", int64(7))},
	{"mapped-update-by-every-key", "UPDATE users SET email = ? WHERE id = ? AND name = ?", namedArgs("e", int64(7), "bob")},
	{"mapped-update-by-id", "UPDATE users SET email = ? WHERE id = ?", namedArgs("e", int64(7))},
}

// BenchmarkClassify measures what the driver does to a statement before it
// runs: the plan lookup (state.plan) and resolving it for the args
// (plan.forArgs). On a hit the text is in the plan cache; on a miss every
// iteration sends a new text (the case's text with a counter in a trailing
// comment), so the plan is built: keyword check, mapped-table scan, parse
// where a mapped table is named. Building the unique text costs the miss
// cases one allocation of their own. No database is involved:
//
//	go test -run '^$' -bench '^BenchmarkClassify$' -count 6 . | tee classify.txt; benchstat classify.txt
func BenchmarkClassify(b *testing.B) {
	st := newPlanState(b)
	b.Run("hit", func(b *testing.B) {
		for _, c := range classifyCases {
			b.Run(c.name, func(b *testing.B) {
				st.plan(planSchema, c.text) // warm the cache
				b.ReportAllocs()
				for b.Loop() {
					if p := st.plan(planSchema, c.text); !p.passThrough {
						p.forArgs(c.args)
					}
				}
			})
		}
	})
	b.Run("miss", func(b *testing.B) {
		for _, c := range classifyCases {
			b.Run(c.name, func(b *testing.B) {
				buf := []byte(c.text + " /* ")
				base := len(buf)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					i++
					buf = append(strconv.AppendInt(buf[:base], int64(i), 10), " */"...)
					if p := st.plan(planSchema, string(buf)); !p.passThrough {
						p.forArgs(c.args)
					}
				}
			})
		}
	})
}
