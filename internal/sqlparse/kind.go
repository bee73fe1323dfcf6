package sqlparse

import "strconv"

var kindNames = [...]string{
	Other:         "Other",
	Insert:        "Insert",
	Replace:       "Replace",
	Update:        "Update",
	Delete:        "Delete",
	Begin:         "Begin",
	Commit:        "Commit",
	Rollback:      "Rollback",
	Savepoint:     "Savepoint",
	RollbackTo:    "RollbackTo",
	Release:       "Release",
	SetAutocommit: "SetAutocommit",
	DDL:           "DDL",
	Truncate:      "Truncate",
	LoadData:      "LoadData",
	Call:          "Call",
	LockTables:    "LockTables",
	UnlockTables:  "UnlockTables",
	Use:           "Use",
	XA:            "XA",
}

// String returns the kind's constant name, or Kind(n) for an unknown value.
func (k Kind) String() string {
	if k.Valid() {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the declared kinds.
func (k Kind) Valid() bool {
	return k >= 0 && int(k) < len(kindNames) && kindNames[k] != ""
}
