package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mysqletcd/mysqletcd/example/ent/entdb"
	"github.com/mysqletcd/mysqletcd/example/ent/entdb/user"
)

// run writes the example's workload with the ent client's usual calls,
// one step after another, and calls done after each step.
func run(ctx context.Context, client *entdb.Client, done func(step string)) error {
	return (&workload{ctx: ctx, client: client}).run(done)
}

// workload is the example's sequence of writes. created holds the users
// as ent returned them from the create step, ids included.
type workload struct {
	ctx     context.Context
	client  *entdb.Client
	created []*entdb.User
}

func (w *workload) run(done func(step string)) error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"schema", func() error { return w.client.Schema.Create(w.ctx) }},
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

// create inserts one user and a batch in one INSERT; ent fills in the ids
// from LastInsertId.
func (w *workload) create() error {
	ann, err := w.client.User.Create().SetName("ann").SetAge(30).Save(w.ctx)
	if err != nil {
		return err
	}
	ages := map[string]int{"bob": 25, "cy": 41, "di": 19, "ed": 52}
	var builders []*entdb.UserCreate
	for _, name := range []string{"bob", "cy", "di", "ed"} {
		builders = append(builders, w.client.User.Create().SetName(name).SetAge(ages[name]))
	}
	batch, err := w.client.User.CreateBulk(builders...).Save(w.ctx)
	if err != nil {
		return err
	}
	w.created = append([]*entdb.User{ann}, batch...)
	return nil
}

// update changes one entity, then users by predicate: setting fields, and
// by expression (AddAge: age = age + n).
func (w *workload) update() error {
	ann, err := w.client.User.Query().Where(user.Name("ann")).Only(w.ctx)
	if err != nil {
		return err
	}
	if ann, err = ann.Update().SetEmail("ann@example.com").Save(w.ctx); err != nil {
		return err
	}
	_, err1 := ann.Update().SetName("anna").SetAge(31).Save(w.ctx) // moves the by-name key
	_, err2 := w.client.User.Update().Where(user.Name("bob")).SetAge(26).ClearEmail().Save(w.ctx)
	_, err3 := w.client.User.Update().Where(user.AgeGT(40)).AddAge(1).Save(w.ctx)
	_, err4 := w.client.User.Update().Where(user.NameIn("cy", "di")).SetEmail("cd@example.com").Save(w.ctx)
	return errors.Join(err1, err2, err3, err4)
}

// upsert inserts rows whose name is taken: INSERT ... ON DUPLICATE KEY
// UPDATE on the unique name, one row and a batch.
func (w *workload) upsert() error {
	cy, err := w.client.User.Create().SetName("cy").SetEmail("cy@example.org").SetAge(7).
		OnConflict().UpdateNewValues().ID(w.ctx)
	if err != nil {
		return err
	}
	if want, err := w.client.User.Query().Where(user.Name("cy")).OnlyID(w.ctx); err != nil || want != cy {
		return fmt.Errorf("upsert reported id %d for cy; the database has %d (%v)", cy, want, err)
	}
	return w.client.User.CreateBulk(
		w.client.User.Create().SetName("di").SetAge(20),
		w.client.User.Create().SetName("kim").SetAge(27),
	).OnConflict().UpdateNewValues().Exec(w.ctx)
}

// softDelete sets deleted_at on one user and on every user under 21.
func (w *workload) softDelete() error {
	now := time.Now()
	_, err1 := w.client.User.Update().Where(user.Name("bob")).SetDeletedAt(now).Save(w.ctx)
	_, err2 := w.client.User.Update().Where(user.AgeLT(21), user.DeletedAtIsNil()).SetDeletedAt(now).Save(w.ctx)
	return errors.Join(err1, err2)
}

// undelete clears deleted_at again.
func (w *workload) undelete() error {
	_, err := w.client.User.Update().Where(user.Name("bob")).ClearDeletedAt().Save(w.ctx)
	return err
}

// hardDelete removes rows, soft-deleted or not.
func (w *workload) hardDelete() error {
	ed, err := w.client.User.Query().Where(user.Name("ed")).OnlyID(w.ctx)
	if err != nil {
		return err
	}
	_, err2 := w.client.User.Delete().Where(user.DeletedAtNotNil()).Exec(w.ctx)
	return errors.Join(w.client.User.DeleteOneID(ed).Exec(w.ctx), err2)
}

// savepoints writes in a transaction with savepoints: one rolled back to,
// one released. ent has no nested transactions; SAVEPOINT is plain SQL.
func (w *workload) savepoints() error {
	tx, err := w.client.Tx(w.ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.User.Create().SetName("max").SetAge(40).Save(w.ctx); err != nil {
		return err
	}
	if err := w.txExec(tx, "SAVEPOINT before_update"); err != nil {
		return err
	}
	if err := tx.User.Update().Where(user.Name("max")).SetAge(99).Exec(w.ctx); err != nil {
		return err
	}
	if _, err := tx.User.Delete().Where(user.Name("anna")).Exec(w.ctx); err != nil {
		return err
	}
	if err := w.txExec(tx, "ROLLBACK TO SAVEPOINT before_update"); err != nil {
		return err
	}
	if err := w.txExec(tx, "SAVEPOINT before_email"); err != nil {
		return err
	}
	if err := tx.User.Update().Where(user.Name("anna")).SetEmail("anna@example.org").Exec(w.ctx); err != nil {
		return err
	}
	if err := w.txExec(tx, "RELEASE SAVEPOINT before_email"); err != nil {
		return err
	}
	if _, err := tx.User.Create().SetName("ned").SetAge(50).Save(w.ctx); err != nil {
		return err
	}
	return tx.Commit()
}

func (w *workload) txExec(tx *entdb.Tx, query string) error {
	_, err := tx.ExecContext(w.ctx, query)
	return err
}

// rolledBack writes in a transaction that rolls back.
func (w *workload) rolledBack() error {
	tx, err := w.client.Tx(w.ctx)
	if err != nil {
		return err
	}
	_, err1 := tx.User.Create().SetName("zed").SetAge(1).Save(w.ctx)
	err2 := tx.User.Update().Where(user.Name("anna")).SetAge(99).Exec(w.ctx)
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
	shared, err := w.client.User.Create().SetName("shared").Save(w.ctx)
	if err != nil {
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
	if shared, err = w.client.User.Get(w.ctx, shared.ID); err != nil {
		return err
	}
	if shared.Age != writers*writesEach {
		return fmt.Errorf("shared user's age is %d after %d increments", shared.Age, writers*writesEach)
	}
	return nil
}

func (w *workload) writeOnce(sharedID, g, i int) error {
	u, err := w.client.User.Create().SetName(fmt.Sprintf("w%d-%d", g, i)).SetAge(i).Save(w.ctx)
	if err != nil {
		return err
	}
	if err := w.client.User.UpdateOneID(sharedID).AddAge(1).Exec(w.ctx); err != nil {
		return err
	}
	switch i % 3 {
	case 1:
		return u.Update().AddAge(9 * i).SetEmail(u.Name + "@example.com").Exec(w.ctx)
	case 2:
		return u.Update().SetDeletedAt(time.Now()).Exec(w.ctx)
	}
	return w.client.User.DeleteOne(u).Exec(w.ctx)
}
