package mysqletcd

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// state is what a Connector builds when its first connection opens: the
// mappings bound to the live schema, the plan cache and the syncer.
type state struct {
	cfg       Config
	tables    map[string]*table // by lower-case "schema.table"
	tableList []*table
	cascades  map[string][]*table // parent "schema.table" -> mapped tables its writes cascade into
	views     map[string][]*table // "schema.view" -> mapped tables it is defined over
	plans     planCache
	// beforeImageRead, when set (tests only), runs between a write's
	// before-image and the write itself.
	beforeImageRead func()
	sync            *syncer
}

// start validates the mappings against the live schema and starts the
// syncer. inner is the mysql connector; its connections are not intercepted.
func start(ctx context.Context, cfg Config, inner driver.Connector) (*state, error) {
	db := sql.OpenDB(readerConnector{inner})
	db.SetMaxOpenConns(cfg.Workers + 2)
	db.SetMaxIdleConns(cfg.Workers + 2)
	st, err := bindSchema(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	etcd, err := newEtcdClient(cfg.Etcd)
	if err != nil {
		db.Close()
		return nil, explainConnect(ctx, cfg.Etcd, err)
	}
	mappings := make([]*mapping, 0, len(cfg.Tables))
	for _, t := range st.tableList {
		mappings = append(mappings, t.mappings...)
	}
	// A syncer that is not started: its key names and the client.
	check := &syncer{cfg: cfg, etcd: etcd}
	if err := check.checkAccess(ctx, mappings); err != nil {
		etcd.Close()
		db.Close()
		return nil, err
	}
	st.sync = newSyncer(cfg, etcd, db, st.tables, mappings)
	return st, nil
}

// bindSchema reads each mapped table and binds its mappings.
func bindSchema(ctx context.Context, cfg Config, db *sql.DB) (*state, error) {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&current); err != nil {
		return nil, fmt.Errorf("mysqletcd: read the default database: %w", err)
	}
	st := &state{cfg: cfg, tables: map[string]*table{}, plans: planCache{max: 10000}}
	for i, mc := range cfg.Tables {
		m, err := newMapping(i, mc)
		if err != nil {
			return nil, err
		}
		schema, name, ok := strings.Cut(mc.Table, ".")
		if !ok {
			schema, name = current.String, mc.Table
			if schema == "" {
				return nil, m.schemaErr("table", "%q names no database and the DSN has none: write db.%s or add /<database> to the DSN", mc.Table, mc.Table)
			}
		}
		key := strings.ToLower(schema + "." + name)
		t := st.tables[key]
		if t == nil {
			var found bool
			if t, found, err = loadTable(ctx, db, schema, name); err != nil {
				return nil, fmt.Errorf("mysqletcd: %s: %w", m.field("table"), err)
			}
			if !found {
				return nil, m.schemaErr("table", "table %s.%s does not exist, or the database user has no privilege on it: create it, fix the name, or GRANT SELECT ON %s TO the user",
					schema, name, quoteTable(schema, name))
			}
			st.tables[key] = t
			st.tableList = append(st.tableList, t)
		}
		if err := m.bind(t, cfg.FencePrefix); err != nil {
			return nil, err
		}
		if err := checkRead(ctx, db, m); err != nil {
			return nil, err
		}
		t.mappings = append(t.mappings, m)
	}
	for _, t := range st.tableList {
		t.finish()
	}
	var err error
	if st.cascades, err = loadCascades(ctx, db, st.tableList, cfg.Logger); err != nil {
		return nil, fmt.Errorf("mysqletcd: read foreign keys: %w", err)
	}
	if st.views, err = loadViews(ctx, db, st.tableList, cfg.Logger); err != nil {
		return nil, fmt.Errorf("mysqletcd: read views: %w", err)
	}
	return st, nil
}

func newMapping(i int, mc Mapping) (*mapping, error) {
	tmpl, err := parseKeyTemplate(mc.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: tables[%d].key: %w", ErrConfig, i, err)
	}
	return &mapping{index: i, cfg: mc, tmpl: tmpl}, nil
}

// checkRead runs the mapping's read once, so that a missing SELECT
// privilege or a typo in the filter fails at open rather than every push.
func checkRead(ctx context.Context, db *sql.DB, m *mapping) error {
	rows, err := db.QueryContext(ctx, m.selectList()+" LIMIT 0")
	var me *mysql.MySQLError
	switch {
	case err == nil:
		return rows.Close()
	case errors.As(err, &me) && (me.Number == 1142 || me.Number == 1143): // table, column access denied
		return m.schemaErr("table", "the database user may not read %s: %v: the driver reads the rows of every mapped table (GRANT SELECT ON %s TO the user)",
			m.table.qualified(), err, quoteTable(m.table.schema, m.table.name))
	case m.cfg.Where != "":
		return m.schemaErr("where", "%q does not work on %s: %v", m.cfg.Where, m.table.qualified(), err)
	}
	return fmt.Errorf("mysqletcd: %s: read %s: %w", m.field("table"), m.table.qualified(), err)
}

// newEtcdClient connects to etcd. The client logs nothing itself: errors
// reach the Config's Logger through the syncer. With a username it
// authenticates at once, which needs etcd to answer.
func newEtcdClient(ec EtcdConfig) (*clientv3.Client, error) {
	tlsConfig, err := ec.tlsConfig()
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   ec.Endpoints,
		DialTimeout: ec.DialTimeout,
		Username:    ec.Username,
		Password:    ec.Password,
		TLS:         tlsConfig,
		Logger:      zap.NewNop(),
	})
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return nil, fmt.Errorf("%w: etcd auth as user %q: %w: check etcd.username and etcd.password", ErrEtcdAccess, ec.Username, err)
	case err != nil:
		return nil, fmt.Errorf("mysqletcd: connect to etcd %v: %w", ec.Endpoints, err)
	}
	return cli, nil
}
