package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// run writes the example's workload with sqlx's usual calls, one step after
// another, and calls done after each step.
func run(ctx context.Context, db *sqlx.DB, done func(step string)) error {
	return (&workload{ctx: ctx, db: db}).run(done)
}

// workload is the example's sequence of writes. created holds the users
// of the create step with the ids the results gave.
type workload struct {
	ctx     context.Context
	db      *sqlx.DB
	created []User
}

func (w *workload) run(done func(step string)) error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"schema", w.schema},
		{"create", w.create},
		{"update", w.update},
		{"upsert", w.upsert},
		{"soft delete", w.softDelete},
		{"undelete", w.undelete},
		{"hard delete", w.hardDelete},
		{"savepoints", w.savepoints},
		{"rolled-back transaction", w.rolledBack},
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

// exec runs a statement, with '?' placeholders or :named ones taken from
// arg (a struct, a map or a slice of them).
func (w *workload) exec(query string, arg any) error {
	_, err := sqlx.NamedExecContext(w.ctx, w.db, query, arg)
	return err
}

// schema creates the table, through the driver like every other statement.
func (w *workload) schema() error {
	_, err := w.db.ExecContext(w.ctx, schema)
	return err
}

// create inserts one user, then a batch in one INSERT from a slice; MySQL
// gives a multi-row INSERT consecutive ids from LastInsertId on.
func (w *workload) create() error {
	ann := User{Name: "ann", Age: 30}
	res, err := w.db.NamedExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (:name, :age)", &ann)
	if err != nil {
		return err
	}
	if ann.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	batch := []User{{Name: "bob", Age: 25}, {Name: "cy", Age: 41}, {Name: "di", Age: 19}, {Name: "ed", Age: 52}}
	res, err = w.db.NamedExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (:name, :age)", batch)
	if err != nil {
		return err
	}
	first, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for i := range batch {
		batch[i].ID = first + int64(i)
	}
	w.created = append([]User{ann}, batch...)
	return nil
}

// update changes users from a struct, from a map, by expression, and with
// an IN list from sqlx.In.
func (w *workload) update() error {
	var ann User
	if err := w.db.GetContext(w.ctx, &ann, "SELECT * FROM users WHERE name = ?", "ann"); err != nil {
		return err
	}
	ann.Name, ann.Age = "anna", 31 // moves the by-name key
	ann.Email.String, ann.Email.Valid = "ann@example.com", true
	query, args, err := sqlx.In("UPDATE users SET email = CONCAT(name, '@example.com') WHERE name IN (?)", []string{"cy", "di"})
	if err != nil {
		return err
	}
	_, inErr := w.db.ExecContext(w.ctx, w.db.Rebind(query), args...)
	_, exprErr := w.db.ExecContext(w.ctx, "UPDATE users SET age = age + 1 WHERE age > ?", 40)
	return errors.Join(
		w.exec("UPDATE users SET name = :name, email = :email, age = :age WHERE id = :id", &ann),
		w.exec("UPDATE users SET age = :age, email = NULL WHERE name = :name", map[string]any{"name": "bob", "age": 26}),
		exprErr,
		inErr,
	)
}

// upsert inserts rows whose name is taken: INSERT ... ON DUPLICATE KEY
// UPDATE on the unique name, one row and a batch.
func (w *workload) upsert() error {
	const upsert = `INSERT INTO users (name, email, age) VALUES (:name, :email, :age)
		ON DUPLICATE KEY UPDATE email = VALUES(email), age = VALUES(age)`
	cy := User{Name: "cy", Age: 7}
	cy.Email.String, cy.Email.Valid = "cy@example.org", true
	return errors.Join(
		w.exec(upsert, &cy),
		w.exec(upsert, []User{{Name: "di", Age: 20}, {Name: "kim", Age: 27}}),
	)
}

// softDelete sets deleted_at on one user and on every user under 21.
func (w *workload) softDelete() error {
	_, err1 := w.db.ExecContext(w.ctx, "UPDATE users SET deleted_at = NOW(6) WHERE name = ?", "bob")
	_, err2 := w.db.ExecContext(w.ctx, "UPDATE users SET deleted_at = NOW(6) WHERE age < ? AND deleted_at IS NULL", 21)
	return errors.Join(err1, err2)
}

// undelete clears deleted_at again.
func (w *workload) undelete() error {
	_, err := w.db.ExecContext(w.ctx, "UPDATE users SET deleted_at = NULL WHERE name = ?", "bob")
	return err
}

// hardDelete removes rows, soft-deleted or not.
func (w *workload) hardDelete() error {
	_, err1 := w.db.ExecContext(w.ctx, "DELETE FROM users WHERE name = ?", "ed")
	_, err2 := w.db.ExecContext(w.ctx, "DELETE FROM users WHERE deleted_at IS NOT NULL")
	return errors.Join(err1, err2)
}

// savepoints writes in a transaction with savepoints: one rolled back to,
// one released.
func (w *workload) savepoints() error {
	tx, err := w.db.BeginTxx(w.ctx, nil)
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
		"SAVEPOINT before_email",
		"UPDATE users SET email = 'anna@example.org' WHERE name = 'anna'",
		"RELEASE SAVEPOINT before_email",
	} {
		if _, err := tx.ExecContext(w.ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if _, err := tx.NamedExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (:name, :age)", User{Name: "ned", Age: 50}); err != nil {
		return err
	}
	return tx.Commit()
}

// rolledBack writes in a transaction that rolls back.
func (w *workload) rolledBack() error {
	tx, err := w.db.BeginTxx(w.ctx, nil)
	if err != nil {
		return err
	}
	_, err1 := tx.ExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (?, ?)", "zed", 1)
	_, err2 := tx.ExecContext(w.ctx, "UPDATE users SET age = 99 WHERE name = ?", "anna")
	return errors.Join(err1, err2, tx.Rollback())
}

// writers and writesEach size the concurrent step.
const (
	writers    = 4
	writesEach = 8
)

// concurrent has several goroutines create, update and delete their own
// users while all of them increment one shared user's age.
func (w *workload) concurrent() error {
	res, err := w.db.ExecContext(w.ctx, "INSERT INTO users (name, age) VALUES ('shared', 0)")
	if err != nil {
		return err
	}
	shared, err := res.LastInsertId()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for g := range writers {
		wg.Go(func() {
			for i := range writesEach {
				if errs[g] = w.writeOnce(shared, g, i); errs[g] != nil {
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
	if err := w.db.GetContext(w.ctx, &age, "SELECT age FROM users WHERE id = ?", shared); err != nil {
		return err
	}
	if age != writers*writesEach {
		return fmt.Errorf("shared user's age is %d after %d increments", age, writers*writesEach)
	}
	return nil
}

func (w *workload) writeOnce(shared int64, g, i int) error {
	u := User{Name: fmt.Sprintf("w%d-%d", g, i), Age: i}
	res, err := w.db.NamedExecContext(w.ctx, "INSERT INTO users (name, age) VALUES (:name, :age)", &u)
	if err != nil {
		return err
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	if _, err := w.db.ExecContext(w.ctx, "UPDATE users SET age = age + 1 WHERE id = ?", shared); err != nil {
		return err
	}
	switch i % 3 {
	case 1:
		return w.exec("UPDATE users SET age = age * 10, email = CONCAT(:name, '@example.com') WHERE id = :id", &u)
	case 2:
		return w.exec("UPDATE users SET deleted_at = NOW(6) WHERE id = :id", &u)
	}
	return w.exec("DELETE FROM users WHERE id = :id", &u)
}
