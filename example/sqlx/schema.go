package main

import (
	"database/sql"
	"time"
)

// schema creates the mapped table.
const schema = `CREATE TABLE IF NOT EXISTS users (
	id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
	name VARCHAR(64) NOT NULL,
	email VARCHAR(128) NULL,
	age INT NOT NULL DEFAULT 0,
	updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
	deleted_at DATETIME(6) NULL,
	UNIQUE KEY users_name (name)
)`

// User is a row of users.
type User struct {
	ID        int64          `db:"id"`
	Name      string         `db:"name"`
	Email     sql.NullString `db:"email"`
	Age       int            `db:"age"`
	UpdatedAt time.Time      `db:"updated_at"`
	DeletedAt sql.NullTime   `db:"deleted_at"`
}
