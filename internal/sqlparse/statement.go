// Package sqlparse turns MySQL statement text into the small, parser-neutral
// description that the capture planner needs. It hides the concrete parser
// (github.com/pingcap/tidb/pkg/parser) behind Parse and the types below.
package sqlparse

// Kind is what a statement does, as far as capture is concerned.
type Kind int

// Statement kinds. Other covers everything that is neither a write nor
// transaction control (SELECT, SHOW, SET of other variables, ...).
const (
	Other Kind = iota
	Insert
	Replace
	Update
	Delete
	Begin         // BEGIN, START TRANSACTION
	Commit        // COMMIT [AND CHAIN]
	Rollback      // ROLLBACK [AND CHAIN]
	Savepoint     // SAVEPOINT x
	RollbackTo    // ROLLBACK TO [SAVEPOINT] x
	Release       // RELEASE SAVEPOINT x
	SetAutocommit // SET [SESSION|@@]autocommit = 0/1/ON/OFF
	DDL           // CREATE/ALTER/DROP/RENAME ... (implicit commit)
	Truncate      // TRUNCATE [TABLE] t
	LoadData      // LOAD DATA ... INTO TABLE t
	Call          // CALL proc(...)
	LockTables    // LOCK TABLES (implicit commit)
	UnlockTables  // UNLOCK TABLES
	Use           // USE db
	XA            // XA START/END/PREPARE/COMMIT/ROLLBACK
)

// TableName is a table as written in the statement. Schema is empty when the
// statement does not qualify it. Names are as written (case kept, no quotes).
type TableName struct {
	Schema string
	Name   string
	// Ref is how a multi-table statement's WHERE and SET refer to a target
	// table: its alias, or else its name as written ("t" or "db.t"). Empty
	// for single-table statements, whose clauses name the table itself.
	Ref string
}

// ValueKind says where an INSERT value or SET right-hand side comes from.
type ValueKind int

// Value kinds.
const (
	Expr    ValueKind = iota // anything else: a function call, arithmetic, a column reference, VALUES(col), a subquery
	Literal                  // a constant; Value.Literal holds it
	Param                    // a ? placeholder; Value.Param holds its 0-based index among the statement's args
	Default                  // DEFAULT
	Null                     // NULL
)

// Value is one INSERT value or one assignment's right-hand side.
type Value struct {
	Kind ValueKind
	// Literal is set for Kind == Literal: int64, uint64, float64, string
	// (string literals and decimals, as written), or []byte (hex/bit literals
	// and _binary strings).
	Literal any
	// Param is the 0-based index of the placeholder in the statement's args.
	Param int
}

// Assignment is "column = value" in UPDATE ... SET, INSERT ... SET or
// ON DUPLICATE KEY UPDATE. Table is the qualifier when written (t.col).
type Assignment struct {
	Table  string
	Column string
	Value  Value
}

// Fragment is a piece of SQL text restored from the statement, with the
// indices of the statement args its ? placeholders refer to, in order.
type Fragment struct {
	SQL    string
	Params []int
}

// OrderItem is one ORDER BY item: its expression, which a select list can
// take as it is, and the column's name (unqualified) when the item is a
// plain column.
type OrderItem struct {
	Expr   *Fragment
	Column string
}

// Statement is one parsed statement.
type Statement struct {
	Kind Kind
	// Tables are the tables the statement writes (INSERT/REPLACE target,
	// UPDATE/DELETE targets, TRUNCATE/LOAD DATA/DDL targets, all tables of
	// RENAME; for LOCK TABLES the locked tables). Read-only tables of joins
	// and subqueries are not listed.
	Tables []TableName

	// INSERT and REPLACE.
	Columns     []string     // the column list; empty when the statement has none
	Rows        [][]Value    // VALUES/VALUE rows, or one row for INSERT ... SET (Columns filled from it)
	Select      bool         // INSERT ... SELECT / TABLE / WITH ... SELECT
	Ignore      bool         // INSERT IGNORE / UPDATE IGNORE / DELETE IGNORE
	OnDuplicate []Assignment // ON DUPLICATE KEY UPDATE assignments

	// UPDATE and DELETE (single- and multi-table).
	Set     []Assignment // UPDATE ... SET
	Where   *Fragment    // the WHERE condition, nil when there is none
	OrderBy *Fragment    // ORDER BY items without the keywords, nil when none
	// OrderColumns are the ORDER BY items when every one is a plain column
	// (unqualified names); nil when there is no ORDER BY or an item is an
	// expression. With LIMIT, they tell whether the order picks the rows
	// deterministically.
	OrderColumns []string
	// OrderItems are the ORDER BY items one by one, without ASC or DESC.
	OrderItems []OrderItem
	Limit      *Fragment // LIMIT count (and offset, as "o, c"), nil when none
	MultiTable bool      // joins, several target tables, USING, or a WITH clause
	// WhereEq are the top-level AND-ed "column = constant" conditions of
	// a single-table WHERE (either side may be the column), the column
	// unqualified or qualified with the target table. Empty when the WHERE
	// has an OR at the top, or for multi-table statements.
	WhereEq []Assignment
	// From is what to select from when Tables[0] alone is not enough:
	// the table references of a MultiTable statement (the joins of UPDATE,
	// the FROM or USING part of DELETE), whose tables and aliases Where and
	// OrderBy then use, or a single table with its PARTITION (...) list.
	// It is nil otherwise, and Where and OrderBy then name the single table
	// by its name, an alias having been replaced by the table name.
	From *Fragment
	// With is the statement's WITH clause, keywords included, to put in front
	// of the SELECT; nil when there is none. Where and From may name its CTEs.
	With *Fragment

	// Transaction control.
	Chain      bool // COMMIT AND CHAIN / ROLLBACK AND CHAIN
	Autocommit bool // for SetAutocommit: the new value
	// AutocommitUnknown is set for SetAutocommit when the new value is not a
	// constant (a ?, a variable, DEFAULT, an expression) or not a valid
	// boolean; Autocommit is then meaningless.
	AutocommitUnknown bool
	// SavepointName is the savepoint of Savepoint, RollbackTo and Release,
	// as written.
	SavepointName string

	// UseSchema is the schema of USE.
	UseSchema string
}
