package mysqletcd

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Durable mode (Config.Durable) keeps every captured key in an outbox table
// in the same database, written inside the transaction that changed the
// row, so that the key commits (or rolls back) with the write:
//
//   - a write inside a transaction adds its new keys to the outbox on the
//     same connection right after it runs, whatever later commits it (the
//     API, COMMIT text, an implicit commit, XA);
//   - an autocommit write is wrapped in START TRANSACTION ... COMMIT with its
//     outbox rows;
//   - a statement that commits on its own (DDL, TRUNCATE) records a table
//     resync row before it runs;
//   - a push reads the outbox rows of its keys before it reads the rows:
//     whatever committed before that read, the push's database read sees,
//     so once its compare-and-swap succeeds those outbox rows are deleted
//     (in the background, batched);
//   - a table resync deletes the resync rows it read before it started;
//   - a sweeper in every process claims rows older than OutboxSweepAfter
//     (SELECT ... FOR UPDATE SKIP LOCKED), pushes them and deletes them: the
//     keys of a process that died between commit and push.
//
// An outbox row is (id, mapping key template, etcd key); an empty etcd key
// asks for a resync of the mapping.

// outboxDDL creates the outbox table.
func outboxDDL(table string) string {
	return "CREATE TABLE IF NOT EXISTS " + table + ` (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  mapping VARBINARY(512) NOT NULL,
  etcd_key VARBINARY(3072) NOT NULL,
  created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  KEY by_key (mapping(64), etcd_key(255)),
  KEY by_age (created_at)
) ENGINE=InnoDB`
}

// outboxTable is the quoted, schema-qualified name of the outbox.
func outboxTable(name, defaultSchema string) (string, error) {
	schema, table, qualified := strings.Cut(name, ".")
	if !qualified {
		schema, table = defaultSchema, name
	}
	if schema == "" {
		return "", fmt.Errorf("%w: outbox-table %q names no database and the DSN has no default database: write it as db.%s", ErrConfig, name, name)
	}
	return quoteTable(schema, table), nil
}

// ensureOutbox creates the outbox table when it is missing. A user without
// the CREATE privilege gets an error that says how to create it.
func ensureOutbox(ctx context.Context, db *sql.DB, table string) error {
	_, err := db.ExecContext(ctx, outboxDDL(table))
	if err == nil {
		return nil
	}
	if rows, qerr := db.QueryContext(ctx, "SELECT 1 FROM "+table+" LIMIT 0"); qerr == nil {
		rows.Close()
		return nil // it exists; we may not create tables, and need not
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1142 || me.Number == 1044) {
		return fmt.Errorf("%w: durable: the outbox table %s does not exist and this user may not create it: run `mysqletcd migrate` as a user who may, or grant CREATE: %v", ErrSchema, table, err)
	}
	return fmt.Errorf("mysqletcd: durable: create the outbox table %s: %w", table, err)
}

// prepareOutbox resolves the outbox table's name and creates it if needed.
func prepareOutbox(ctx context.Context, db *sql.DB, name string) (string, error) {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&current); err != nil {
		return "", fmt.Errorf("mysqletcd: read the default database: %w", err)
	}
	table, err := outboxTable(name, current.String)
	if err != nil {
		return "", err
	}
	return table, ensureOutbox(ctx, db, table)
}

// outboxEntry is one outbox row to write: a key of a mapping, or an empty
// key for a resync of the mapping.
type outboxEntry struct {
	m   *mapping
	key string
}

// outboxEntries lists what a capture must record: its keys, and a resync
// row per mapping of each table it resyncs.
func outboxEntries(c *capture) []outboxEntry {
	var out []outboxEntry
	for _, it := range c.items {
		if _, whole := c.resyncs[it.m.table]; !whole {
			out = append(out, outboxEntry{it.m, it.key})
		}
	}
	for t := range c.resyncs {
		for _, m := range t.mappings {
			out = append(out, outboxEntry{m, ""})
		}
	}
	return out
}

// writeOutbox inserts entries on the app's connection, inside its
// transaction, in statements of up to 500 rows.
func writeOutbox(ctx context.Context, conn driver.Conn, table string, entries []outboxEntry) error {
	for start := 0; start < len(entries); start += 500 {
		chunk := entries[start:min(start+500, len(entries))]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (mapping, etcd_key) VALUES ")
		args := make([]driver.NamedValue, 0, 2*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?)")
			args = append(args,
				driver.NamedValue{Ordinal: 2*i + 1, Value: e.m.cfg.Key},
				driver.NamedValue{Ordinal: 2*i + 2, Value: e.key})
		}
		if err := execArgs(ctx, conn, b.String(), args); err != nil {
			return fmt.Errorf("mysqletcd: durable: record %d keys in the outbox %s: %w", len(chunk), table, err)
		}
	}
	return nil
}

// execArgs runs a statement with args on the mysql connection, preparing it
// when the connection does not interpolate args.
func execArgs(ctx context.Context, conn driver.Conn, query string, args []driver.NamedValue) error {
	_, err := conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	if !errors.Is(err, driver.ErrSkip) {
		return err
	}
	stmt, err := conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	defer stmt.Close()
	_, err = stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return err
}

// outboxIDs reads the ids of the outbox rows of keys of m (an empty key:
// its resync rows). A push calls it before it reads the rows.
func (s *syncer) outboxIDs(ctx context.Context, m *mapping, keys []string) ([]int64, error) {
	if s.outbox == "" || len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(keys)+1)
	args = append(args, m.cfg.Key)
	for _, k := range keys {
		args = append(args, k)
	}
	query := "SELECT id FROM " + s.outbox + " WHERE mapping = ? AND etcd_key IN (" + strings.TrimSuffix(strings.Repeat("?,", len(keys)), ",") + ")"
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read the outbox: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Migrate creates what durable mode needs in the database — the outbox
// table — when it is missing, as `mysqletcd migrate` does. Run it as a user
// who may create tables when the app's user may not.
func (c *Connector) Migrate(ctx context.Context) error {
	db := sql.OpenDB(readerConnector{c.pipe.inner})
	defer db.Close()
	_, err := prepareOutbox(ctx, db, c.pipe.cfg.OutboxTable)
	return err
}

// OutboxDDL is the CREATE TABLE statement of the outbox table named as in
// Config.OutboxTable, for those who create tables by hand.
func OutboxDDL(table string) string {
	schema, name, qualified := strings.Cut(table, ".")
	if qualified {
		return outboxDDL(quoteTable(schema, name))
	}
	return outboxDDL(quoteIdent(table))
}
