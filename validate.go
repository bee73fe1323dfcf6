package mysqletcd

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Validate checks what can be checked without a database: that etcd is
// named, that every mapping has a table and a usable key template, and that
// no two mappings can write the same key. Each error names the field and the
// fix. The mappings are checked against the live schema when the first
// connection opens.
func (cfg Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s%s: %s", ErrConfig, cfg.source.locate(field), field, fmt.Sprintf(format, args...)))
	}
	if len(cfg.Etcd.Endpoints) == 0 {
		bad("etcd.endpoints", "is empty: list the etcd client URLs, such as [127.0.0.1:2379]")
	}
	if len(cfg.Tables) == 0 {
		bad("tables", "is empty: map at least one table, such as {table: users, key: /app/users/{id}, value: json}")
	}
	if cfg.BatchSize < 0 || cfg.BatchSize > 60 {
		bad("batch-size", "is %d: use 1 to 60 (two etcd operations per key, 128 per transaction)", cfg.BatchSize)
	}
	for name, v := range map[string]int{"queue-size": cfg.QueueSize, "max-tx-keys": cfg.MaxTxKeys, "workers": cfg.Workers} {
		if v < 0 {
			bad(name, "is %d: use a positive number, or leave it out for the default", v)
		}
	}
	if cfg.OutboxSweepAfter < 0 || cfg.OutboxSweepEvery < 0 {
		bad("outbox-sweep-after/outbox-sweep-every", "is negative: use a positive duration, or leave it out for the default")
	}
	for i, m := range cfg.Tables {
		if cfg.Durable && len(m.Key) > 512 {
			bad(fmt.Sprintf("tables[%d].key", i), "is %d bytes long: durable mode records it in the outbox, which takes at most 512", len(m.Key))
		}
	}
	if cfg.ReconcileEvery < 0 {
		bad("reconcile-every", "is %s: use a positive duration such as 15m, or leave it out to turn anti-entropy off", cfg.ReconcileEvery)
	}
	if cfg.ReconcileRate < 0 {
		bad("reconcile-rate", "is %v: use rows per second, or leave it out for no cap", cfg.ReconcileRate)
	}
	if cfg.ElectionTTL != 0 && cfg.ElectionTTL < time.Second {
		bad("election-ttl", "is %s: etcd leases last whole seconds; use 1s or more", cfg.ElectionTTL)
	}
	fence := strings.TrimRight(cfg.FencePrefix, "/")
	if fence == "" {
		fence = "/_mysqletcd"
	}
	tmpls := make([]*keyTemplate, len(cfg.Tables))
	for i, m := range cfg.Tables {
		field := fmt.Sprintf("tables[%d]", i)
		if m.Table == "" {
			bad(field+".table", "is empty: name the table, as table or db.table")
		}
		t, err := parseKeyTemplate(m.Key)
		if err != nil {
			bad(field+".key", "%v", err)
			continue
		}
		if strings.HasPrefix(m.Key, fence+"/") || m.Key == fence {
			bad(field+".key", "%q is under fence-prefix %q, where the driver keeps its own keys: pick another prefix", m.Key, fence)
		}
		for j := range i {
			if tmpls[j] != nil && t.overlaps(tmpls[j]) {
				bad(field+".key", "%q can give the same key as tables[%d].key %q, and they would overwrite each other: give each mapping its own prefix", m.Key, j, cfg.Tables[j].Key)
			}
		}
		tmpls[i] = t
		if m.Value.Column != "" && len(m.Columns) > 0 {
			bad(field+".columns", "is set with value {column: %s}: columns lists the fields of a json value; remove one of them", m.Value.Column)
		}
	}
	return errors.Join(errs...)
}
