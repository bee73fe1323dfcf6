package main

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// User is the mapped table. Its soft_delete column makes bun's deletes
// soft; the mapping's "where: deleted_at IS NULL" drops soft-deleted users
// from etcd.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Name      string    `bun:"name,type:varchar(64),notnull,unique"`
	Email     *string   `bun:"email,type:varchar(128)"`
	Age       int       `bun:"age,notnull"`
	UpdatedAt time.Time `bun:"updated_at,type:datetime(6),notnull,default:current_timestamp(6)"`
	DeletedAt time.Time `bun:"deleted_at,type:datetime(6),soft_delete,nullzero"`
}

var _ bun.BeforeAppendModelHook = (*User)(nil)

// BeforeAppendModel stamps updated_at on every insert and update.
func (u *User) BeforeAppendModel(_ context.Context, query bun.Query) error {
	switch query.(type) {
	case *bun.InsertQuery, *bun.UpdateQuery:
		u.UpdatedAt = time.Now()
	}
	return nil
}
