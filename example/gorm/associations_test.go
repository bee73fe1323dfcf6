package main

import (
	"testing"

	"gorm.io/gorm"

	"github.com/mysqletcd/mysqletcd/example/internal/harness"
)

// Post belongs to a user; its foreign key cascades updates and deletes.
type Post struct {
	ID     uint64 `gorm:"primaryKey"`
	UserID uint64 `gorm:"not null;uniqueIndex:post_slug"`
	Slug   string `gorm:"size:64;not null;uniqueIndex:post_slug"`
	Title  string `gorm:"size:128"`
}

// Author is a user with posts.
type Author struct {
	User
	Posts []Post `gorm:"foreignKey:UserID;constraint:OnDelete:CASCADE,OnUpdate:CASCADE"`
}

func (Author) TableName() string { return "users" }

// TestAssociationsAndCascadesConverge writes a user with posts through
// GORM's associations (the posts' INSERT ... ON DUPLICATE KEY UPDATE), then
// changes and deletes the user, which the foreign key cascades to posts.
func TestAssociationsAndCascadesConverge(t *testing.T) {
	env := harness.New(t, "testdata/associations.yaml")
	db := openForTest(t, env.DSN+"&parseTime=true")
	if err := db.AutoMigrate(&Author{}, &Post{}); err != nil {
		t.Fatal(err)
	}
	must := func(tx *gorm.DB) {
		t.Helper()
		if tx.Error != nil {
			t.Fatal(tx.Error)
		}
	}

	a := Author{User: User{Name: "ann"}, Posts: []Post{{Slug: "hello", Title: "Hello"}, {Slug: "bye", Title: "Bye"}}}
	must(db.Create(&a))
	env.Converged("create with posts")
	a.Posts[0].Title = "Hello again"
	a.Posts = append(a.Posts, Post{Slug: "third", Title: "Third"})
	must(db.Session(&gorm.Session{FullSaveAssociations: true}).Save(&a))
	env.Converged("save with posts")
	must(db.Model(&User{}).Where("id = ?", a.ID).Update("id", 777))
	env.Converged("new user id, cascaded to posts")
	must(db.Unscoped().Delete(&User{}, 777))
	env.Converged("delete, cascaded to posts")
}
