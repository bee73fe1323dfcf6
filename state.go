package mysqletcd

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
)

// state is what a Connector builds when its first connection opens: the
// mappings bound to the live schema (the catalog, reloaded after DDL), and
// the syncer.
type state struct {
	cfg Config
	cat atomic.Pointer[catalog]
	db  *sql.DB // the syncer's pool, not intercepted: schema reads
	// reloadMu serialises catalog reloads.
	reloadMu sync.Mutex
	// beforeImageRead, when set (tests only), runs between a write's
	// before-image and the write itself.
	beforeImageRead func()
	sync            *syncer
	outbox          string // durable mode: the quoted outbox table
}

// start validates the mappings against the live schema and starts the
// syncer. inner is the mysql connector; its connections are not intercepted.
// A mapping whose table does not exist yet is a warning (an error with
// Config.Strict): it starts working when DDL through the driver, or a check
// at a later connection, finds its table.
func start(ctx context.Context, cfg Config, inner driver.Connector, met *metrics) (*state, error) {
	db := sql.OpenDB(readerConnector{inner})
	db.SetMaxOpenConns(cfg.Workers + 2)
	db.SetMaxIdleConns(cfg.Workers + 2)
	cat, problems, err := loadCatalog(ctx, cfg, db)
	if err == nil {
		err = startProblems(cfg, problems)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	var outbox string
	if cfg.Durable {
		if outbox, err = prepareOutbox(ctx, db, cfg.OutboxTable); err != nil {
			db.Close()
			return nil, err
		}
	}
	etcd, releaseEtcd, err := acquireEtcd(cfg.Etcd)
	if err != nil {
		err = explainConnect(ctx, cfg.Etcd, err)
		if !etcdUnreachable(err) {
			db.Close()
			return nil, err
		}
		// Credentials set and etcd down: connect in the background
		// (etcdlater.go) rather than fail the database.
		cfg.Logger.Warn("mysqletcd: etcd cannot be reached; the database opens, and pushes wait until etcd can be", "err", err)
		etcd, releaseEtcd = nil, nil
	}
	if etcd != nil {
		// A syncer that is not started: its key names and the client.
		check := &syncer{cfg: cfg, etcd: etcd}
		if err := check.checkAccess(ctx, cat.working()); err != nil {
			releaseEtcd()
			db.Close()
			return nil, err
		}
	}
	st := &state{cfg: cfg, db: db, outbox: outbox}
	st.cat.Store(cat)
	st.sync = newSyncer(cfg, etcd, releaseEtcd, db, cat.mappings, outbox, st.reload, met)
	st.sync.setCatalog(cat)
	return st, nil
}

// startProblems turns what the first schema read found into the open's
// error: every problem but a missing table, which is a warning unless
// Config.Strict.
func startProblems(cfg Config, problems []mappingProblem) error {
	var errs []error
	for _, p := range problems {
		if p.missing && !cfg.Strict {
			cfg.Logger.Warn("mysqletcd: mapped table does not exist yet; the mapping starts working when it is created", "err", p.err)
			continue
		}
		errs = append(errs, p.err)
	}
	return errors.Join(errs...)
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

// reconnectBackoff paces the client's attempts to reconnect to an etcd
// member that is down. gRPC's default grows to 120 s: after a 30 s outage
// of the whole cluster a client measured here needed 9 s more to notice it
// was back; with this pacing, under half a second.
var reconnectBackoff = grpcbackoff.Config{
	BaseDelay:  100 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   2 * time.Second,
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
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           reconnectBackoff,
			MinConnectTimeout: ec.DialTimeout,
		})},
	})
	switch {
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return nil, fmt.Errorf("%w: etcd auth as user %q: %w: check etcd.username and etcd.password", ErrEtcdAccess, ec.Username, err)
	case err != nil:
		return nil, fmt.Errorf("mysqletcd: connect to etcd %v: %w", ec.Endpoints, err)
	}
	return cli, nil
}
