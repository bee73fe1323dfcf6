package mysqletcd

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// MappingCheck describes one mapping as bound to the live schema, with the
// key and value it gives for one sample row.
type MappingCheck struct {
	Table     string   // "schema.table"
	Key       string   // the key template
	KeyPrefix string   // the literal start of every key: what to watch
	KeyCols   []string // the unique key the template renders
	Columns   []string // the columns the value is made of
	Where     string   // the mapping's filter, if any
	// SampleKey and SampleValue are what the table's first row (by the
	// unique key) gives; empty when the table has no row. SampleFiltered
	// says the row fails Where: it has no key in etcd.
	SampleKey      string
	SampleValue    []byte
	SampleFiltered bool
}

// Check binds the mappings to the live schema, as the first connection
// does, and returns each with a sample row's key and value. Errors name
// the config field and the fix.
func (c *Connector) Check(ctx context.Context) ([]MappingCheck, error) {
	st, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	// Read the schema afresh: a mapping whose table is missing or no
	// longer fits is an error here, not a warning.
	_, problems, err := loadCatalog(ctx, c.pipe.cfg, st.db)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, p := range problems {
		errs = append(errs, p.err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	st.reload(ctx)
	var out []MappingCheck
	for _, m := range st.sync.working() {
		mc := MappingCheck{
			Table: m.table.qualified(), Key: m.cfg.Key, KeyPrefix: m.tmpl.prefix,
			KeyCols: m.keyCols, Columns: m.valueCols, Where: m.cfg.Where,
		}
		order := m.table.orderExprs(m.table.notNullUnique(m.keyCols))
		rows, err := m.scanRows(ctx, st.sync.db, m.selectList()+" ORDER BY "+order+" LIMIT 1", nil)
		if err != nil {
			return nil, fmt.Errorf("mysqletcd: read a sample row of %s: %w", m, err)
		}
		if len(rows) > 0 {
			mc.SampleKey, mc.SampleValue, mc.SampleFiltered = rows[0].key, rows[0].value, !rows[0].match
		}
		out = append(out, mc)
	}
	return out, nil
}

// NewEtcdClient connects to etcd as the driver does, with cfg's endpoints,
// timeouts, TLS and credentials. The caller closes the client.
func NewEtcdClient(cfg EtcdConfig) (*clientv3.Client, error) {
	return newEtcdClient(Config{Etcd: cfg}.withDefaults().Etcd)
}
