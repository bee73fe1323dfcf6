package mysqletcd

import (
	"fmt"
	"net/url"
	"strings"
)

// mapping is one validated table-to-key mapping.
type mapping struct {
	index     int // position in Config.Tables
	cfg       Mapping
	table     *table
	tmpl      *keyTemplate
	keyCols   []string // the template's columns, as the schema spells them
	valueCols []string // JSON: the listed (or all) columns; column value: that one
	readCols  []string // keyCols then the valueCols not among them
	valueIdx  []int    // index in readCols of each valueCols entry
	epochKey  string
	gcMarkKey string // fence collection's revision-and-time mark
}

func (m *mapping) String() string { return m.table.qualified() + " " + m.cfg.Key }

// field names the mapping's config entry in error messages.
func (m *mapping) field(name string) string { return fmt.Sprintf("tables[%d].%s", m.index, name) }

// bind checks a mapping against its table's live schema and fills in the
// column lists. Errors name the field and the fix.
func (m *mapping) bind(t *table, fencePrefix string) error {
	m.table = t
	m.keyCols = m.keyCols[:0]
	for _, c := range m.tmpl.columns {
		col, ok := t.column(c)
		if !ok {
			return m.schemaErr("key", "column %q of %s does not exist: use one of %s", c, t.qualified(), t.columnList())
		}
		if col.nullable {
			return m.schemaErr("key", "column %q of %s is nullable: key columns must be NOT NULL (ALTER TABLE %s MODIFY %s ... NOT NULL)", col.name, t.qualified(), t.name, col.name)
		}
		m.keyCols = append(m.keyCols, col.name)
	}
	if t.notNullUnique(m.keyCols) == nil {
		return m.schemaErr("key", "columns %s of %s are not a primary or unique key, so two rows could share a key: include the primary key (%s) in the key",
			strings.Join(m.keyCols, ", "), t.qualified(), strings.Join(t.primaryOrFirstUnique(), ", "))
	}
	m.valueCols = m.valueCols[:0]
	switch {
	case m.cfg.Value.Column != "":
		col, ok := t.column(m.cfg.Value.Column)
		if !ok {
			return m.schemaErr("value.column", "column %q of %s does not exist: use one of %s", m.cfg.Value.Column, t.qualified(), t.columnList())
		}
		m.valueCols = append(m.valueCols, col.name)
	case len(m.cfg.Columns) > 0:
		for _, c := range m.cfg.Columns {
			col, ok := t.column(c)
			if !ok {
				return m.schemaErr("columns", "column %q of %s does not exist: use some of %s", c, t.qualified(), t.columnList())
			}
			m.valueCols = append(m.valueCols, col.name)
		}
	default:
		for _, c := range t.columns {
			m.valueCols = append(m.valueCols, c.name)
		}
	}
	m.readCols = appendUnique(append([]string(nil), m.keyCols...), m.valueCols...)
	m.valueIdx = m.valueIdx[:0]
	for _, v := range m.valueCols {
		for i, r := range m.readCols {
			if strings.EqualFold(r, v) {
				m.valueIdx = append(m.valueIdx, i)
				break
			}
		}
	}
	id := url.PathEscape(t.qualified()) + "/" + url.PathEscape(m.cfg.Key)
	m.epochKey = fencePrefix + "/epoch/" + id
	m.gcMarkKey = fencePrefix + "/gc-mark/" + id
	return nil
}

func (m *mapping) schemaErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrSchema, m.field(field), fmt.Sprintf(format, args...))
}

func (t *table) columnList() string {
	names := make([]string, len(t.columns))
	for i, c := range t.columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func (t *table) primaryOrFirstUnique() []string {
	if len(t.uniques) > 0 {
		return t.uniques[0]
	}
	return []string{"an id column"}
}
