package sqlparse

import "testing"

func FuzzParse(f *testing.F) {
	for _, e := range readCorpus(f) {
		f.Add(e.sql)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			return
		}
		for i, st := range stmts {
			if st.Kind == Update || st.Kind == Delete {
				checkSelectFor(t, st)
			}
			if !st.Kind.Valid() {
				t.Fatalf("statement %d of %q has invalid Kind %d", i, sql, int(st.Kind))
			}
			for _, f := range []*Fragment{st.With, st.From, st.Where, st.OrderBy, st.Limit} {
				if f == nil {
					continue
				}
				for _, p := range f.Params {
					if p < 0 {
						t.Fatalf("statement %d of %q: fragment %q has arg %d", i, sql, f.SQL, p)
					}
				}
			}
		}
	})
}
