package main

import (
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
)

// TestMoreStatementShapesConverge runs GORM calls beyond the example's
// workload whose SQL the driver must capture: upserts that change a unique
// key, Save of a slice, updates and deletes of slices of models, UPDATE
// ... ORDER BY ... LIMIT, DoNothing and INSERT IGNORE, FirstOrCreate.
func TestMoreStatementShapesConverge(t *testing.T) {
	env := harness.New(t, "mysqletcd.yaml")
	db := openForTest(t, env.DSN+"&parseTime=true")
	if err := db.AutoMigrate(&User{}); err != nil {
		t.Fatal(err)
	}
	must := func(tx *gorm.DB) {
		t.Helper()
		if tx.Error != nil {
			t.Fatal(tx.Error)
		}
	}
	us := []User{{Name: "a", Age: 1}, {Name: "b", Age: 2}, {Name: "c", Age: 3}, {Name: "d", Age: 4}}
	must(db.Create(&us))
	env.Converged("create")
	// Upsert on the primary key that renames: the by-name key moves.
	must(db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&User{ID: us[0].ID, Name: "a2", Age: 10}))
	env.Converged("upsert rename on pk")
	// Save a slice: one existing (renamed), one new with an explicit id.
	us[1].Name = "b2"
	must(db.Save(&[]User{us[1], {ID: 500, Name: "e", Age: 5}}))
	env.Converged("save slice")
	must(db.Model(&[]User{us[2], us[3]}).Update("age", 42))
	env.Converged("update slice of models")
	must(db.Model(&User{}).Where("age > ?", 0).Order("id DESC").Limit(2).Update("email", "lim@example.com"))
	env.Converged("update order limit")
	must(db.Delete(&[]User{us[2], us[3]}))
	env.Converged("soft delete slice")
	must(db.Unscoped().Delete(&[]User{us[2], us[3]}))
	env.Converged("hard delete slice")
	// DoNothing (ON DUPLICATE KEY UPDATE id = id) and INSERT IGNORE.
	must(db.Clauses(clause.OnConflict{DoNothing: true}).Create(&User{Name: "e", Age: 77}))
	must(db.Clauses(clause.Insert{Modifier: "IGNORE"}).Create(&User{Name: "b2", Age: 77}))
	env.Converged("do nothing / ignore")
	must(db.Model(&User{}).Where("name LIKE ?", "a%").Updates(map[string]any{"name": gorm.Expr("CONCAT(name, '-x')")}))
	env.Converged("rename by like")
	var u User
	must(db.Where(User{Name: "zz"}).Assign(User{Age: 9}).FirstOrCreate(&u))
	must(db.Where(User{Name: "zz"}).Assign(User{Age: 10}).FirstOrCreate(&u))
	env.Converged("first or create")
	// The conflict is on name, and the update changes name: the by-name key moves.
	must(db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}}, DoUpdates: clause.Assignments(map[string]any{"name": gorm.Expr("CONCAT(users.name, '-up')")})}).Create(&User{Name: "zz", Age: 1}))
	env.Converged("upsert renames on conflict")
}
