package main

import (
	"time"

	"gorm.io/gorm"
)

// User is the mapped table. gorm.DeletedAt makes Delete a soft delete; the
// mapping's "where: deleted_at IS NULL" drops soft-deleted users from etcd.
type User struct {
	ID        uint64  `gorm:"primaryKey"`
	Name      string  `gorm:"size:64;not null;uniqueIndex"`
	Email     *string `gorm:"size:128"`
	Age       int     `gorm:"not null;default:0"`
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}
