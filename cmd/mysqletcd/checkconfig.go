package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

func checkConfigCommand() *command {
	return &command{
		name:     "check-config",
		summary:  "check the config against the live schema and show each mapping's sample key",
		synopsis: "check-config [--print] [flags]",
		about: `
Validates the config, binds every mapping to the live schema as the driver's
first connection does, and reads etcd's revision. Prints, for each mapping,
the table, key template, key columns, value, where filter, and the key and
value of the table's first row, or "(table is empty)". Exits 1 with the
problem (naming the config field and the fix) when anything does not fit.

With --print it prints the effective config instead, as YAML that the driver
reads back: the file's settings with every default filled in and the etcd
password shown as ***. It needs no database then.`,
		examples: `  mysqletcd check-config --dsn 'app:secret@tcp(db:3306)/app?mysqletcd-config=/etc/app/mysqletcd.yaml'

  # the config as the driver will use it
  mysqletcd check-config --print --config /etc/app/mysqletcd.yaml`,
		define: func(fs *flag.FlagSet, inv *invocation) action {
			var conn connFlags
			conn.define(fs)
			printOnly := fs.Bool("print", false, "print the effective config as YAML (etcd password as ***)")
			return func(ctx context.Context) error {
				t, err := inv.resolve(&conn, !*printOnly)
				if err != nil {
					return err
				}
				if *printOnly {
					return printConfig(inv.stdout, t)
				}
				return checkConfig(ctx, inv, t)
			}
		},
	}
}

// checkConfig validates t's config against the schema and etcd and prints
// each mapping.
func checkConfig(ctx context.Context, inv *invocation, t *target) error {
	if err := t.cfg.Validate(); err != nil {
		return fmt.Errorf("%s:\n%w", t.configPath, err)
	}
	conn, err := t.connect(inv, inv.stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	checks, err := conn.Check(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", t.configPath, err)
	}
	rev, err := etcdRevision(ctx, t.cfg.Etcd)
	if err != nil {
		return fmt.Errorf("etcd at %s: %v: check etcd.endpoints in %s and that etcd is running",
			strings.Join(t.cfg.Etcd.Endpoints, ", "), err, t.configPath)
	}
	w := inv.stdout
	fmt.Fprintf(w, "config:    %s\n", t.configPath)
	fmt.Fprintf(w, "database:  %s\n", maskedDSN(t.mysql))
	fmt.Fprintf(w, "etcd:      %s (revision %d)\n", strings.Join(t.cfg.Etcd.Endpoints, ", "), rev)
	for _, c := range checks {
		writeMappingCheck(w, c, mappingFor(t.cfg, c.Key))
	}
	fmt.Fprintf(w, "\nok: %s checked against the schema and etcd\n", plural(len(checks), "mapping"))
	return nil
}

// writeMappingCheck prints one mapping as bound to the schema.
func writeMappingCheck(w io.Writer, c mysqletcd.MappingCheck, m mysqletcd.Mapping) {
	value := "json object of " + strings.Join(c.Columns, ", ")
	if m.Value.Column != "" {
		value = "raw bytes of column " + strings.Join(c.Columns, ", ")
	}
	where := c.Where
	if where == "" {
		where = "(none)"
	}
	fmt.Fprintf(w, "\n%s\n", c.Table)
	fmt.Fprintf(w, "  key template:  %s\n", c.Key)
	fmt.Fprintf(w, "  key columns:   %s\n", strings.Join(c.KeyCols, ", "))
	fmt.Fprintf(w, "  value:         %s\n", value)
	fmt.Fprintf(w, "  where:         %s\n", where)
	switch {
	case c.SampleKey == "":
		fmt.Fprintf(w, "  sample:        (table is empty)\n")
	case c.SampleFiltered:
		fmt.Fprintf(w, "  sample key:    %s (the first row fails where: it has no key)\n", printable(c.SampleKey))
	default:
		fmt.Fprintf(w, "  sample key:    %s\n", printable(c.SampleKey))
		fmt.Fprintf(w, "  sample value:  %s\n", shortValue(c.SampleValue, valueWidth))
	}
}

// mappingFor is the config entry with the key template key; templates are
// unique (Validate rejects overlapping ones).
func mappingFor(cfg mysqletcd.Config, key string) mysqletcd.Mapping {
	for _, m := range cfg.Tables {
		if m.Key == key {
			return m
		}
	}
	return mysqletcd.Mapping{}
}

// etcdRevision connects to etcd as the driver does and reads its current
// revision, within the config's request timeout.
func etcdRevision(ctx context.Context, cfg mysqletcd.EtcdConfig) (int64, error) {
	cli, err := mysqletcd.NewEtcdClient(cfg)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	timeout := cfg.RequestTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := cli.Get(ctx, "\x00", clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}
