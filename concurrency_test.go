package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// randomWrite sends one random write on a few dozen keys. Errors (duplicate
// keys, deadlocks) are part of the workload: a failed statement changes
// nothing, and the driver must capture nothing wrong for it.
func randomWrite(ctx context.Context, db *sql.DB, r *rand.Rand) {
	id := func() int { return 1 + r.IntN(40) }
	name := func() string { return fmt.Sprintf("n%d", r.IntN(60)) }
	switch r.IntN(9) {
	case 0, 1:
		db.ExecContext(ctx, "INSERT INTO users (id, name, email) VALUES (?, ?, ?)", id(), name(), fmt.Sprint("e", r.IntN(1000)))
	case 2:
		db.ExecContext(ctx, "UPDATE users SET email = ? WHERE id = ?", fmt.Sprint("e", r.IntN(1000)), id())
	case 3:
		db.ExecContext(ctx, "UPDATE users SET id = ? WHERE id = ?", id(), id())
	case 4:
		db.ExecContext(ctx, "UPDATE users SET name = ? WHERE id = ?", name(), id())
	case 5:
		db.ExecContext(ctx, "UPDATE users SET deleted_at = IF(deleted_at IS NULL, NOW(), NULL) WHERE id = ?", id())
	case 6:
		db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id())
	case 7:
		lo := id()
		db.ExecContext(ctx, "UPDATE users SET age = COALESCE(age, 0) + 1 WHERE id BETWEEN ? AND ?", lo, lo+3)
	case 8:
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return
		}
		tx.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE email = 'upsert'", id(), name())
		tx.ExecContext(ctx, "DELETE FROM users WHERE name = ?", name())
		if r.IntN(4) == 0 {
			tx.Rollback()
			return
		}
		tx.Commit()
	}
}

func TestManyWritersOnFewKeysConverge(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	const pools, writers, ops = 3, 8, 400
	dbs := make([]*sql.DB, pools)
	for i := range dbs {
		dbs[i], _ = e.open(nil)
		dbs[i].SetMaxOpenConns(writers)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 42))
			db := dbs[w%pools]
			for range ops {
				randomWrite(ctx, db, r)
			}
		})
	}
	wg.Wait()
	e.converged()
	var total Stats
	for _, c := range e.conns {
		st := c.Stats()
		total.KeysCaptured += st.KeysCaptured
		total.Conflicts += st.Conflicts
		total.Puts += st.Puts
		total.Deletes += st.Deletes
	}
	t.Logf("%d writes over %d pools: %d keys captured, %d puts, %d deletes, %d CAS conflicts", writers*ops, pools, total.KeysCaptured, total.Puts, total.Deletes, total.Conflicts)
}
