package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// table is what the driver knows of one mapped table, read from the live
// schema when the first connection opens.
type table struct {
	schema, name string
	columns      []column
	byName       map[string]int // lower-case column name -> index in columns
	primary      []string       // primary key columns; empty when there is none
	uniques      [][]string     // unique keys, primary first
	autoInc      string         // the AUTO_INCREMENT column, if any
	// transactional: the engine rolls back a failed statement (InnoDB);
	// MyISAM and friends keep what it wrote before the error.
	transactional bool
	mappings      []*mapping
	// rowID are the columns that identify a row for after-images: the
	// primary key, else the first unique NOT NULL key.
	rowID []string
	// idCols are rowID plus every mapping's key columns: what before- and
	// after-images read.
	idCols []string
}

type column struct {
	name      string
	dataType  string // information_schema DATA_TYPE, lower case
	nullable  bool
	binary    bool   // a string type without a character set
	collation string // COLLATION_NAME; empty for non-character types
	unsigned  bool   // an UNSIGNED number
	maxLen    int64  // CHARACTER_MAXIMUM_LENGTH: characters, or bytes for binary types
	implicit  bool   // the server changes it on its own (ON UPDATE, GENERATED, a BEFORE UPDATE trigger)
	insertSet bool   // a BEFORE INSERT trigger sets it: an INSERT's value is not the row's
	json      bool   // JSON, or MariaDB's LONGTEXT with a json_valid check
}

// temporal reports a date or time type, which the driver reads as text.
func (c column) temporal() bool {
	switch c.dataType {
	case "date", "datetime", "timestamp", "time":
		return true
	}
	return false
}

func (t *table) qualified() string { return t.schema + "." + t.name }

func (t *table) column(name string) (column, bool) {
	i, ok := t.byName[strings.ToLower(name)]
	if !ok {
		return column{}, false
	}
	return t.columns[i], true
}

// canonical returns the column's name as the schema spells it.
func (t *table) canonical(name string) string {
	if c, ok := t.column(name); ok {
		return c.name
	}
	return name
}

// loadTable reads a table's columns and unique keys; found is false when the
// table does not exist.
func loadTable(ctx context.Context, db *sql.DB, schema, name string) (t *table, found bool, err error) {
	t = &table{schema: schema, name: name, byName: map[string]int{}}
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, LOWER(DATA_TYPE), IS_NULLABLE = 'YES', EXTRA LIKE '%auto_increment%',
			CHARACTER_SET_NAME IS NULL AND DATA_TYPE IN ('binary','varbinary','tinyblob','blob','mediumblob','longblob'),
			COALESCE(COLLATION_NAME, ''), COLUMN_TYPE LIKE '%unsigned%', COALESCE(CHARACTER_MAXIMUM_LENGTH, 0),
			EXTRA LIKE '%on update%' OR EXTRA LIKE '%generated%',
			DATA_TYPE = 'json' OR EXISTS (SELECT 1 FROM information_schema.CHECK_CONSTRAINTS k
				WHERE k.CONSTRAINT_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
				AND k.CHECK_CLAUSE LIKE CONCAT('%json_valid(', CHAR(96), c.COLUMN_NAME, CHAR(96), ')%'))
		FROM information_schema.COLUMNS c WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, schema, name)
	if err != nil {
		return nil, false, fmt.Errorf("read columns of %s.%s: %w", schema, name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c column
		var autoInc bool
		if err := rows.Scan(&c.name, &c.dataType, &c.nullable, &autoInc, &c.binary, &c.collation, &c.unsigned, &c.maxLen, &c.implicit, &c.json); err != nil {
			return nil, false, err
		}
		if autoInc {
			t.autoInc = c.name
		}
		t.byName[strings.ToLower(c.name)] = len(t.columns)
		t.columns = append(t.columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(t.columns) == 0 {
		return nil, false, nil
	}
	if err := t.loadKeys(ctx, db); err != nil {
		return nil, false, err
	}
	var engine string
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(ENGINE, '') FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
		schema, name).Scan(&engine); err != nil {
		return nil, false, fmt.Errorf("read the engine of %s: %w", t.qualified(), err)
	}
	t.transactional = strings.EqualFold(engine, "InnoDB")
	return t, true, nil
}

func (t *table) loadKeys(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
		ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`, t.schema, t.name)
	if err != nil {
		return fmt.Errorf("read keys of %s: %w", t.qualified(), err)
	}
	defer rows.Close()
	last := ""
	for rows.Next() {
		var index, col string
		if err := rows.Scan(&index, &col); err != nil {
			return err
		}
		if index != last || len(t.uniques) == 0 {
			t.uniques = append(t.uniques, nil)
			last = index
		}
		t.uniques[len(t.uniques)-1] = append(t.uniques[len(t.uniques)-1], col)
		if index == "PRIMARY" {
			t.primary = append(t.primary, col)
		}
	}
	return rows.Err()
}

// notNullUnique returns the first unique key whose columns are all NOT NULL
// and all in cols, or nil.
func (t *table) notNullUnique(cols []string) []string {
	in := map[string]bool{}
	for _, c := range cols {
		in[strings.ToLower(c)] = true
	}
next:
	for _, u := range t.uniques {
		for _, c := range u {
			col, _ := t.column(c)
			if !in[strings.ToLower(c)] || col.nullable {
				continue next
			}
		}
		return u
	}
	return nil
}

// finish computes rowID and idCols once the mappings are attached.
func (t *table) finish() {
	if len(t.primary) > 0 {
		t.rowID = t.primary
	} else {
		for _, m := range t.mappings {
			if u := t.notNullUnique(m.keyCols); u != nil {
				t.rowID = u
				break
			}
		}
	}
	t.idCols = appendUnique(nil, t.rowID...)
	for _, m := range t.mappings {
		t.idCols = appendUnique(t.idCols, m.keyCols...)
	}
}

// appendUnique appends the names not yet in list (compared case-blind).
func appendUnique(list []string, names ...string) []string {
next:
	for _, n := range names {
		for _, l := range list {
			if strings.EqualFold(l, n) {
				continue next
			}
		}
		list = append(list, n)
	}
	return list
}
