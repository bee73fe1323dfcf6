package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// run writes the example's workload with plain database/sql calls, one
// step after another, and calls done after each step.
func run(ctx context.Context, db *sql.DB, done func(step string)) error {
	w := &workload{ctx: ctx, db: db}
	steps := []struct {
		name string
		do   func() error
	}{
		{"schema", func() error { return w.exec(schema) }},
		{"create", w.create},
		{"update", w.update},
		{"upsert", w.upsert},
		{"soft delete", func() error { return w.exec("UPDATE users SET deleted_at = NOW(6) WHERE age < ?", 21) }},
		{"undelete", func() error { return w.exec("UPDATE users SET deleted_at = NULL WHERE name = ?", "di") }},
		{"hard delete", func() error { return w.exec("DELETE FROM users WHERE name = ?", "ed") }},
		{"savepoints", w.savepoints},
		{"rolled-back transaction", w.rolledBack},
		{"prepared statement", w.prepared},
		{"concurrent writers", w.concurrent},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		done(s.name)
	}
	return nil
}

type workload struct {
	ctx context.Context
	db  *sql.DB
}

func (w *workload) exec(query string, args ...any) error {
	_, err := w.db.ExecContext(w.ctx, query, args...)
	return err
}

// create inserts one user, then a batch in one INSERT.
func (w *workload) create() error {
	return errors.Join(
		w.exec("INSERT INTO users (name, age) VALUES (?, ?)", "ann", 30),
		w.exec("INSERT INTO users (name, age) VALUES (?, ?), (?, ?), (?, ?), (?, ?)", "bob", 25, "cy", 41, "di", 19, "ed", 52),
	)
}

// update changes users by key (moving the by-name key) and by expression.
func (w *workload) update() error {
	return errors.Join(
		w.exec("UPDATE users SET name = ?, email = ? WHERE name = ?", "anna", "ann@example.com", "ann"),
		w.exec("UPDATE users SET age = age + 1 WHERE age > ?", 40),
	)
}

// upsert inserts rows whose name is taken: INSERT ... ON DUPLICATE KEY
// UPDATE on the unique name.
func (w *workload) upsert() error {
	return w.exec(`INSERT INTO users (name, email, age) VALUES (?, ?, ?), (?, ?, ?)
		ON DUPLICATE KEY UPDATE email = VALUES(email), age = VALUES(age)`,
		"cy", "cy@example.org", 7, "kim", nil, 27)
}

// savepoints writes in a transaction with a savepoint rolled back to.
func (w *workload) savepoints() error {
	tx, err := w.db.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"INSERT INTO users (name, age) VALUES ('max', 40)",
		"SAVEPOINT before_update",
		"UPDATE users SET age = 99 WHERE name = 'max'",
		"DELETE FROM users WHERE name = 'anna'",
		"ROLLBACK TO SAVEPOINT before_update",
		"UPDATE users SET email = 'anna@example.org' WHERE name = 'anna'",
	} {
		if _, err := tx.ExecContext(w.ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return tx.Commit()
}

// rolledBack writes in a transaction that rolls back.
func (w *workload) rolledBack() error {
	tx, err := w.db.BeginTx(w.ctx, nil)
	if err != nil {
		return err
	}
	_, err1 := tx.ExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (?, ?)", "zed", 1)
	_, err2 := tx.ExecContext(w.ctx, "UPDATE users SET age = 99 WHERE name = ?", "anna")
	return errors.Join(err1, err2, tx.Rollback())
}

// prepared inserts and updates through one prepared statement each.
func (w *workload) prepared() error {
	insert, err := w.db.PrepareContext(w.ctx, "INSERT INTO users (name, age) VALUES (?, ?)")
	if err != nil {
		return err
	}
	defer insert.Close()
	older, err := w.db.PrepareContext(w.ctx, "UPDATE users SET age = age + ? WHERE name = ?")
	if err != nil {
		return err
	}
	defer older.Close()
	for i, name := range []string{"pia", "quinn", "ray"} {
		if _, err := insert.ExecContext(w.ctx, name, 20+i); err != nil {
			return err
		}
		if _, err := older.ExecContext(w.ctx, 5, name); err != nil {
			return err
		}
	}
	return nil
}

// writers and writesEach size the concurrent step.
const (
	writers    = 4
	writesEach = 8
)

// concurrent has several goroutines create, update and delete their own
// users while all of them increment one shared user's age.
func (w *workload) concurrent() error {
	if err := w.exec("INSERT INTO users (name, age) VALUES ('shared', 0)"); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for g := range writers {
		wg.Go(func() {
			for i := range writesEach {
				name := fmt.Sprintf("w%d-%d", g, i)
				errs[g] = errors.Join(
					w.exec("INSERT INTO users (name, age) VALUES (?, ?)", name, i),
					w.exec("UPDATE users SET age = age + 1 WHERE name = 'shared'"),
					w.exec("UPDATE users SET email = CONCAT(name, '@example.com'), age = age * 10 WHERE name = ?", name),
				)
				if i%2 == 0 && errs[g] == nil {
					errs[g] = w.exec("DELETE FROM users WHERE name = ?", name)
				}
				if errs[g] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var age int
	if err := w.db.QueryRowContext(w.ctx, "SELECT age FROM users WHERE name = 'shared'").Scan(&age); err != nil {
		return err
	}
	if age != writers*writesEach {
		return fmt.Errorf("shared user's age is %d after %d increments", age, writers*writesEach)
	}
	return nil
}
