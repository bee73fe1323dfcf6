package mysqletcd

import (
	"context"
	"database/sql"
	"testing"
)

// BenchmarkDurableCommit measures what durable mode costs the app: the same
// writes through the plain mysql driver, through mysqletcd, and through
// mysqletcd with durable: true, side by side on the same servers. The
// update is an autocommit UPDATE by primary key (durable mode wraps it in a
// transaction with its outbox row); the transaction has five statements.
func BenchmarkDurableCommit(b *testing.B) {
	e := newEnv(b, usersSchema, usersMappings()[0])
	memory, _ := e.open(nil)
	e.cfg.Durable = true
	durable, _ := e.open(nil)
	for i := 1; i <= 100; i++ {
		mustExecB(b, memory, "INSERT INTO users (id, name, email) VALUES (?, ?, ?)", i, "user"+itoa(i), "x")
	}
	e.flush()
	handles := []struct {
		name string
		db   *sql.DB
	}{{"mysql", e.plain}, {"mysqletcd", memory}, {"mysqletcd-durable", durable}}
	ctx := context.Background()
	b.Run("update", func(b *testing.B) {
		for _, h := range handles {
			b.Run(h.name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					i = i%100 + 1
					if _, err := h.db.ExecContext(ctx, "UPDATE users SET email = ? WHERE id = ?", "e"+itoa(i), i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
	b.Run("tx5", func(b *testing.B) {
		for _, h := range handles {
			b.Run(h.name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					tx, err := h.db.BeginTx(ctx, nil)
					if err != nil {
						b.Fatal(err)
					}
					for range 5 {
						i = i%100 + 1
						if _, err := tx.ExecContext(ctx, "UPDATE users SET age = ? WHERE id = ?", i, i); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
	e.flush()
}
