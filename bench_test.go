package mysqletcd

import (
	"context"
	"database/sql"
	"testing"
)

// The benchmarks run the plain mysql driver and mysqletcd side by side on
// the same servers, so that their ratio holds on a noisy machine:
//
//	go test -run '^$' -bench . -count 6 | tee bench.txt; benchstat bench.txt

func benchEnv(b *testing.B, mappings ...Mapping) (plain, driver *sql.DB) {
	e := newEnv(b, usersSchema, mappings...)
	driver, _ = e.open(nil)
	for i := 1; i <= 100; i++ {
		mustExecB(b, driver, "INSERT INTO users (id, name, email) VALUES (?, ?, ?)", i, "user"+itoa(i), "x")
	}
	e.flush()
	return e.plain, driver
}

func mustExecB(b *testing.B, db *sql.DB, q string, args ...any) {
	if _, err := db.Exec(q, args...); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkPointSelect(b *testing.B) {
	plain, driver := benchEnv(b, usersMappings()...)
	for _, h := range []struct {
		name string
		db   *sql.DB
	}{{"mysql", plain}, {"mysqletcd", driver}} {
		b.Run(h.name, func(b *testing.B) {
			ctx := context.Background()
			var name string
			i := 0
			for b.Loop() {
				i = i%100 + 1
				if err := h.db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", i).Scan(&name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMappedUpdateByKey updates one row by its primary key, with the
// table mapped once by that key (the keys are in the statement) and mapped
// twice (by id and by name: the name key needs a read of the row).
func BenchmarkMappedUpdateByKey(b *testing.B) {
	b.Run("one-mapping", func(b *testing.B) { benchUpdate(b, usersMappings()[0]) })
	b.Run("two-mappings", func(b *testing.B) { benchUpdate(b, usersMappings()...) })
}

func benchUpdate(b *testing.B, mappings ...Mapping) {
	plain, driver := benchEnv(b, mappings...)
	for _, h := range []struct {
		name string
		db   *sql.DB
	}{{"mysql", plain}, {"mysqletcd", driver}} {
		b.Run(h.name, func(b *testing.B) {
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i = i%100 + 1
				if _, err := h.db.ExecContext(ctx, "UPDATE users SET email = ? WHERE id = ?", "e"+itoa(i), i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
