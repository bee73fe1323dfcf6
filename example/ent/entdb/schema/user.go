// Package schema holds the ent schema of the example's mapped table.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema/field"
)

// User holds the schema definition for the User entity: the users table.
type User struct {
	ent.Schema
}

// datetime6 keeps microseconds, where ent's default MySQL type for a time
// (timestamp) keeps whole seconds.
var datetime6 = map[string]string{dialect.MySQL: "datetime(6)"}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").MaxLen(64).Unique(),
		field.String("email").MaxLen(128).Optional().Nillable(),
		field.Int("age").Default(0),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).SchemaType(datetime6),
		field.Time("deleted_at").Optional().Nillable().SchemaType(datetime6),
	}
}
