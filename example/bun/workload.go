package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/uptrace/bun"
)

// run writes the example's workload with bun's usual calls, one step after
// another, and calls done after each step.
func run(ctx context.Context, db *bun.DB, done func(step string)) error {
	return (&workload{ctx: ctx, db: db}).run(done)
}

// workload is the example's sequence of writes. created holds the users
// as bun returned them from the create step, ids included.
type workload struct {
	ctx     context.Context
	db      *bun.DB
	created []User
}

// errUndo makes a bun transaction roll back.
var errUndo = errors.New("undo")

func (w *workload) run(done func(step string)) error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"create table", w.createTable},
		{"create", w.create},
		{"update", w.update},
		{"upsert", w.upsert},
		{"soft delete", w.softDelete},
		{"undelete", w.undelete},
		{"hard delete", w.hardDelete},
		{"nested transactions", w.nested},
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

// exec runs the query and keeps only its error.
func (w *workload) exec(q interface {
	Exec(context.Context, ...any) (sql.Result, error)
}) error {
	_, err := q.Exec(w.ctx)
	return err
}

func (w *workload) user(name string) (User, error) {
	var u User
	err := w.db.NewSelect().Model(&u).Where("name = ?", name).WhereAllWithDeleted().Scan(w.ctx)
	return u, err
}

// createTable creates the table, through the driver like every other
// statement.
func (w *workload) createTable() error {
	return w.exec(w.db.NewCreateTable().Model((*User)(nil)).IfNotExists())
}

// create inserts one user and a batch in one INSERT; bun fills in the ids
// from LastInsertId.
func (w *workload) create() error {
	ann := User{Name: "ann", Age: 30}
	if err := w.exec(w.db.NewInsert().Model(&ann)); err != nil {
		return err
	}
	batch := []User{{Name: "bob", Age: 25}, {Name: "cy", Age: 41}, {Name: "di", Age: 19}, {Name: "ed", Age: 52}}
	if err := w.exec(w.db.NewInsert().Model(&batch)); err != nil {
		return err
	}
	w.created = append([]User{ann}, batch...)
	return nil
}

// update changes users by model, by map and by expression.
func (w *workload) update() error {
	ann, err := w.user("ann")
	if err != nil {
		return err
	}
	email := "ann@example.com"
	ann.Email = &email
	if err := w.exec(w.db.NewUpdate().Model(&ann).Column("email", "updated_at").WherePK()); err != nil {
		return err
	}
	ann.Name, ann.Age = "anna", 31 // moves the by-name key
	return errors.Join(
		w.exec(w.db.NewUpdate().Model(&ann).WherePK()),
		w.exec(w.db.NewUpdate().Model(&map[string]any{"age": 26, "email": nil}).TableExpr("users").Where("name = ?", "bob")),
		w.exec(w.db.NewUpdate().Model((*User)(nil)).Set("age = age + 1").Where("age > ?", 40)),
		w.exec(w.db.NewUpdate().Model((*User)(nil)).Set("email = CONCAT(name, '@example.com')").Where("name IN (?)", bun.In([]string{"cy", "di"}))),
	)
}

// upsert inserts rows whose name is taken: INSERT ... ON DUPLICATE KEY
// UPDATE on the unique name, with chosen columns and with all of them.
func (w *workload) upsert() error {
	email := "cy@example.org"
	return errors.Join(
		w.exec(w.db.NewInsert().Model(&User{Name: "cy", Email: &email, Age: 7}).
			On("DUPLICATE KEY UPDATE").Set("email = VALUES(email)").Set("age = VALUES(age)")),
		w.exec(w.db.NewInsert().Model(&[]User{{Name: "di", Age: 20}, {Name: "kim", Age: 27}}).On("DUPLICATE KEY UPDATE")),
	)
}

// softDelete sets deleted_at (bun's soft_delete) on one user and on every
// user under 21.
func (w *workload) softDelete() error {
	bob, err := w.user("bob")
	if err != nil {
		return err
	}
	return errors.Join(
		w.exec(w.db.NewDelete().Model(&bob).WherePK()),
		w.exec(w.db.NewDelete().Model((*User)(nil)).Where("age < ?", 21)),
	)
}

// undelete clears deleted_at again.
func (w *workload) undelete() error {
	return w.exec(w.db.NewUpdate().Model((*User)(nil)).Set("deleted_at = NULL").Where("name = ?", "bob").WhereAllWithDeleted())
}

// hardDelete removes rows, soft-deleted or not.
func (w *workload) hardDelete() error {
	ed, err := w.user("ed")
	if err != nil {
		return err
	}
	return errors.Join(
		w.exec(w.db.NewDelete().Model(&ed).WherePK().ForceDelete()),
		w.exec(w.db.NewDelete().Model((*User)(nil)).WhereDeleted().ForceDelete()),
	)
}

// nested runs a transaction with nested ones (bun's SAVEPOINT, and
// ROLLBACK TO SAVEPOINT for the one that fails), and savepoints by hand.
func (w *workload) nested() error {
	return w.db.RunInTx(w.ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&User{Name: "max", Age: 40}).Exec(ctx); err != nil {
			return err
		}
		// Its error is expected: the savepoint undoes the update only.
		if err := tx.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewUpdate().Model((*User)(nil)).Set("age = 99").Where("name = ?", "max").Exec(ctx); err != nil {
				return err
			}
			return errUndo
		}); !errors.Is(err, errUndo) {
			return fmt.Errorf("inner transaction: %v", err)
		}
		if err := tx.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewUpdate().Model((*User)(nil)).Set("email = ?", "anna@example.org").Where("name = ?", "anna").Exec(ctx)
			return err
		}); err != nil {
			return err
		}
		for _, q := range []string{
			"INSERT INTO users (name, age) VALUES ('ned', 50)",
			"SAVEPOINT before_delete",
			"DELETE FROM users WHERE name = 'anna'",
			"ROLLBACK TO SAVEPOINT before_delete",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
}

// rolledBack writes in a transaction that rolls back.
func (w *workload) rolledBack() error {
	err := w.db.RunInTx(w.ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&User{Name: "zed", Age: 1}).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("age = 99").Where("name = ?", "anna").Exec(ctx); err != nil {
			return err
		}
		return errUndo
	})
	if !errors.Is(err, errUndo) {
		return fmt.Errorf("got %v, want the transaction's own error", err)
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
	shared := User{Name: "shared"}
	if err := w.exec(w.db.NewInsert().Model(&shared)); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for g := range writers {
		wg.Go(func() {
			for i := range writesEach {
				if errs[g] = w.writeOnce(shared.ID, g, i); errs[g] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := w.db.NewSelect().Model(&shared).WherePK().Scan(w.ctx); err != nil {
		return err
	}
	if shared.Age != writers*writesEach {
		return fmt.Errorf("shared user's age is %d after %d increments", shared.Age, writers*writesEach)
	}
	return nil
}

func (w *workload) writeOnce(sharedID int64, g, i int) error {
	u := User{Name: fmt.Sprintf("w%d-%d", g, i), Age: i}
	if err := w.exec(w.db.NewInsert().Model(&u)); err != nil {
		return err
	}
	if err := w.exec(w.db.NewUpdate().Model((*User)(nil)).Set("age = age + 1").Where("id = ?", sharedID)); err != nil {
		return err
	}
	switch i % 3 {
	case 1:
		return w.exec(w.db.NewUpdate().Model(&u).Set("age = age * 10").Set("email = ?", u.Name+"@example.com").WherePK())
	case 2:
		return w.exec(w.db.NewDelete().Model(&u).WherePK())
	}
	return w.exec(w.db.NewDelete().Model(&u).WherePK().ForceDelete())
}
