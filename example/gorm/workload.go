package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// run writes the example's workload with GORM's usual calls, one step after
// another, and calls done after each step.
func run(ctx context.Context, db *gorm.DB, done func(step string)) error {
	return (&workload{db: db.WithContext(ctx)}).run(done)
}

// workload is the example's sequence of writes. created holds the users
// as GORM returned them from the create step, ids included.
type workload struct {
	db      *gorm.DB
	created []User
}

// errUndo makes a GORM transaction roll back.
var errUndo = errors.New("undo")

func (w *workload) run(done func(step string)) error {
	steps := []struct {
		name string
		do   func() error
	}{
		{"migrate", func() error { return w.db.AutoMigrate(&User{}) }},
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

func (w *workload) user(name string) (User, error) {
	var u User
	err := w.db.Unscoped().Where("name = ?", name).Take(&u).Error
	return u, err
}

// create inserts one user, a batch in one INSERT, and a batch in INSERTs of
// two rows; GORM fills in the ids from the results.
func (w *workload) create() error {
	ann := User{Name: "ann", Age: 30}
	if err := w.db.Create(&ann).Error; err != nil {
		return err
	}
	batch := []User{{Name: "bob", Age: 25}, {Name: "cy", Age: 41}, {Name: "di", Age: 19}, {Name: "ed", Age: 52}}
	if err := w.db.Create(&batch).Error; err != nil {
		return err
	}
	more := []User{{Name: "fay", Age: 33}, {Name: "gus", Age: 60}, {Name: "hal", Age: 45}, {Name: "ivy", Age: 22}, {Name: "jo", Age: 38}}
	if err := w.db.CreateInBatches(&more, 2).Error; err != nil {
		return err
	}
	w.created = append(append([]User{ann}, batch...), more...)
	return nil
}

// update changes users by model, by map and by expression.
func (w *workload) update() error {
	ann, err := w.user("ann")
	if err != nil {
		return err
	}
	email := "ann@example.com"
	return errors.Join(
		w.db.Model(&ann).Update("email", email).Error,
		w.db.Model(&ann).Updates(User{Name: "anna", Age: 31}).Error, // moves the by-name key
		w.db.Model(&User{}).Where("name = ?", "bob").Updates(map[string]any{"age": 26, "email": nil}).Error,
		w.db.Model(&User{}).Where("age > ?", 40).Update("age", gorm.Expr("age + ?", 1)).Error,
		w.db.Model(&User{}).Where("name IN ?", []string{"cy", "di"}).UpdateColumn("email", gorm.Expr("CONCAT(name, '@example.com')")).Error,
		w.save("anna", func(u *User) { u.Age = 32 }),
	)
}

// save reads a user, changes it and saves every field back.
func (w *workload) save(name string, change func(*User)) error {
	u, err := w.user(name)
	if err != nil {
		return err
	}
	change(&u)
	return w.db.Save(&u).Error
}

// upsert inserts rows whose name is taken (INSERT ... ON DUPLICATE KEY
// UPDATE on the unique name), and saves a user that does not exist yet.
func (w *workload) upsert() error {
	email := "cy@example.org"
	onName := clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.AssignmentColumns([]string{"email", "age"})}
	return errors.Join(
		w.db.Clauses(onName).Create(&User{Name: "cy", Email: &email, Age: 7}).Error,
		w.db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&[]User{{Name: "di", Age: 20}, {Name: "kim", Age: 27}}).Error,
		w.db.Save(&User{ID: 1000, Name: "lou", Age: 70}).Error, // no row 1000: UPDATE, then INSERT
	)
}

// softDelete sets deleted_at (gorm.DeletedAt) on one user and on every
// user under 21.
func (w *workload) softDelete() error {
	bob, err := w.user("bob")
	if err != nil {
		return err
	}
	return errors.Join(
		w.db.Delete(&bob).Error,
		w.db.Where("age < ?", 21).Delete(&User{}).Error,
	)
}

// undelete clears deleted_at again.
func (w *workload) undelete() error {
	return w.db.Unscoped().Model(&User{}).Where("name = ?", "bob").Update("deleted_at", nil).Error
}

// hardDelete removes rows, soft-deleted or not.
func (w *workload) hardDelete() error {
	ed, err := w.user("ed")
	if err != nil {
		return err
	}
	return errors.Join(
		w.db.Unscoped().Delete(&User{}, ed.ID).Error,
		w.db.Unscoped().Where("deleted_at IS NOT NULL").Delete(&User{}).Error,
	)
}

// nested runs a transaction with nested transactions (SAVEPOINT, and
// ROLLBACK TO SAVEPOINT for the one that fails), then one that uses
// savepoints by hand.
func (w *workload) nested() error {
	err := w.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&User{Name: "max", Age: 40}).Error; err != nil {
			return err
		}
		// Its error is expected: the savepoint undoes the update only.
		if err := tx.Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&User{}).Where("name = ?", "max").Update("age", 99).Error; err != nil {
				return err
			}
			return errUndo
		}); !errors.Is(err, errUndo) {
			return fmt.Errorf("inner transaction: %v", err)
		}
		return tx.Transaction(func(tx *gorm.DB) error {
			return tx.Model(&User{}).Where("name = ?", "anna").Update("email", "anna@example.org").Error
		})
	})
	if err != nil {
		return err
	}
	tx := w.db.Begin()
	err = errors.Join(
		tx.Create(&User{Name: "ned", Age: 50}).Error,
		tx.SavePoint("before_delete").Error,
		tx.Where("name = ?", "anna").Delete(&User{}).Error,
		tx.RollbackTo("before_delete").Error,
	)
	if err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit().Error
}

// rolledBack writes in a transaction that rolls back.
func (w *workload) rolledBack() error {
	err := w.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&User{Name: "zed", Age: 1}).Error; err != nil {
			return err
		}
		if err := tx.Model(&User{}).Where("name = ?", "anna").Update("age", 99).Error; err != nil {
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
	shared := User{Name: "shared", Age: 0}
	if err := w.db.Create(&shared).Error; err != nil {
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
	if err := w.db.Take(&shared, shared.ID).Error; err != nil {
		return err
	}
	if shared.Age != writers*writesEach {
		return fmt.Errorf("shared user's age is %d after %d increments", shared.Age, writers*writesEach)
	}
	return nil
}

func (w *workload) writeOnce(sharedID uint64, g, i int) error {
	u := User{Name: fmt.Sprintf("w%d-%d", g, i), Age: i}
	if err := w.db.Create(&u).Error; err != nil {
		return err
	}
	if err := w.db.Model(&User{ID: sharedID}).Update("age", gorm.Expr("age + 1")).Error; err != nil {
		return err
	}
	switch i % 3 {
	case 1:
		return w.db.Model(&u).Updates(map[string]any{"age": gorm.Expr("age * 10"), "email": u.Name + "@example.com"}).Error
	case 2:
		return w.db.Delete(&u).Error
	}
	return w.db.Unscoped().Delete(&User{}, u.ID).Error
}
