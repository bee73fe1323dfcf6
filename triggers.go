package mysqletcd

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
)

// A trigger writes tables its statement never names: an AFTER INSERT on
// orders that updates a mapped stock table, an audit row in a mapped log.
// The driver reads the triggers at open (and after DDL) and resyncs, after
// a write to a table with triggers, the mapped tables their bodies name
// (every mapped table when a body calls a procedure). A BEFORE trigger
// that sets NEW.col changes the row the statement wrote: such columns are
// taken as set by the server, like GENERATED ones, so their values are
// read back instead of taken from the statement.
//
// information_schema.TRIGGERS lists only the triggers of tables the user
// holds the TRIGGER privilege on; docs/capture.md says so.

// loadTriggers maps each table with a trigger that may write a mapped table
// (lower-case "schema.table") to those mapped tables, and marks the columns
// BEFORE triggers set on mapped tables as implicit.
func loadTriggers(ctx context.Context, db *sql.DB, tables []*table) (map[string][]*table, error) {
	rows, err := db.QueryContext(ctx, `SELECT EVENT_OBJECT_SCHEMA, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT
		FROM information_schema.TRIGGERS`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	triggers := map[string][]*table{}
	for rows.Next() {
		var schema, name, timing, event, body string
		if err := rows.Scan(&schema, &name, &timing, &event, &body); err != nil {
			return nil, err
		}
		key := strings.ToLower(schema + "." + name)
		triggers[key] = appendTables(triggers[key], triggerTargets(body, tables, key))
		if strings.EqualFold(timing, "BEFORE") {
			markSetByTrigger(body, tableByKey(tables, key), strings.ToUpper(event))
		}
	}
	return triggers, rows.Err()
}

// triggerTargets are the mapped tables a trigger body on the table named
// by key may write: not its own table, which MySQL does not let it write.
func triggerTargets(body string, tables []*table, key string) []*table {
	var out []*table
	for _, t := range tables {
		if strings.ToLower(t.qualified()) == key {
			continue
		}
		if hasWord(body, "CALL") || hasWord(body, strings.ToUpper(t.name)) {
			out = append(out, t)
		}
	}
	return out
}

// setNew matches "SET NEW.col =" and ", NEW.col =" in a trigger body.
var setNew = regexp.MustCompile("(?i)\\bnew\\s*\\.\\s*`?([A-Za-z0-9_$]+)`?\\s*:?=")

// markSetByTrigger marks the columns a BEFORE trigger body assigns: on
// INSERT the server, not the statement, decides their values (insertSet);
// on UPDATE they change unnamed, like ON UPDATE columns (implicit).
func markSetByTrigger(body string, t *table, event string) {
	if t == nil {
		return
	}
	for _, m := range setNew.FindAllStringSubmatch(body, -1) {
		if i, ok := t.byName[strings.ToLower(m[1])]; ok {
			switch event {
			case "INSERT":
				t.columns[i].insertSet = true
			case "UPDATE":
				t.columns[i].implicit = true
			}
		}
	}
}

func tableByKey(tables []*table, key string) *table {
	for _, t := range tables {
		if strings.ToLower(t.qualified()) == key {
			return t
		}
	}
	return nil
}
