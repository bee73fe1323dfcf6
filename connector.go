package mysqletcd

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"

	"github.com/ngrok/sqlmw"
)

// Connector is a driver.Connector that opens intercepted connections to
// MySQL and keeps etcd in step with the writes made through them. It is safe
// for concurrent use. Pass it to sql.OpenDB; database/sql calls its Close
// from DB.Close, which waits for queued keys to be pushed (bounded by
// Config.DrainTimeout).
//
// The mappings are checked against the live schema when the first
// connection opens; until that works, Connect returns the error.
type Connector struct {
	inner   driver.Connector
	cfg     Config
	drv     driver.Driver
	metrics *metrics

	mu     sync.Mutex
	st     *state
	closed bool
}

// NewConnector wraps a connector of github.com/go-sql-driver/mysql (from
// mysql.NewConnector, which keeps its TLS config and dialer). cfg is checked
// with Validate, and the metrics are registered on cfg.Metrics.
func NewConnector(inner driver.Connector, cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Connector{inner: inner, cfg: cfg.withDefaults()}
	var err error
	if c.metrics, err = registerMetrics(c.cfg.Metrics); err != nil {
		return nil, err
	}
	c.drv = &Driver{cfg: &c.cfg, conn: c}
	return c, nil
}

// OpenDB opens a database handle over a mysql connector, like sql.OpenDB,
// with cfg's mappings kept in etcd. An invalid cfg is reported by the first
// use of the handle (Ping, Exec, ...).
func OpenDB(inner driver.Connector, cfg Config) *sql.DB {
	c, err := NewConnector(inner, cfg)
	if err != nil {
		return sql.OpenDB(failedConnector{err})
	}
	return sql.OpenDB(c)
}

// Connect opens one intercepted connection.
func (c *Connector) Connect(ctx context.Context) (driver.Conn, error) {
	st, err := c.state(ctx)
	if err != nil {
		return nil, err
	}
	// One sqlmw wrapper per connection: the interceptor is the session,
	// which holds this connection's transaction state.
	wrapped := sqlmw.Driver(innerDriver{c.inner}, &session{st: st}).(driver.DriverContext)
	wc, err := wrapped.OpenConnector("")
	if err != nil {
		return nil, err
	}
	return wc.Connect(ctx)
}

// state binds the schema and starts the syncer on first use.
func (c *Connector) state(ctx context.Context) (*state, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.st != nil {
		return c.st, nil
	}
	st, err := start(ctx, c.cfg, c.inner, c.metrics)
	if err != nil {
		return nil, err
	}
	c.st = st
	return st, nil
}

// Driver returns the mysqletcd driver.
func (c *Connector) Driver() driver.Driver { return c.drv }

// ConnectorOf returns the Connector behind a handle opened with sql.Open on
// a mysqletcd driver, or with OpenDB, so that its users can reach Flush,
// Stats, Resync and Reconcile. ok is false for other handles.
func ConnectorOf(db *sql.DB) (c *Connector, ok bool) {
	d, ok := db.Driver().(*Driver)
	if !ok || d.conn == nil {
		return nil, false
	}
	return d.conn, true
}

// Flush waits until every key committed through this connector so far has
// been pushed to etcd, or ctx ends. It never turns a committed write into an
// error: its error only says that the wait ended first.
func (c *Connector) Flush(ctx context.Context) error {
	c.mu.Lock()
	st := c.st
	c.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.sync.flush(ctx)
}

// Resync pushes every difference between etcd and the table of each mapping
// (missing, stale and orphan keys) and waits until they are pushed or ctx
// ends. It is safe beside live writers.
func (c *Connector) Resync(ctx context.Context) error {
	st, err := c.state(ctx)
	if err != nil {
		return err
	}
	for _, m := range st.sync.mappings {
		st.sync.requestResync(m)
	}
	return st.sync.flush(ctx)
}

// Stats returns running totals of the push pipeline.
func (c *Connector) Stats() Stats {
	c.mu.Lock()
	st := c.st
	c.mu.Unlock()
	if st == nil {
		return Stats{Fallbacks: map[string]int64{}}
	}
	return st.sync.snapshotStats()
}

// Close pushes what is queued (bounded by Config.DrainTimeout) and stops the
// connector's goroutines. database/sql calls it from DB.Close.
func (c *Connector) Close() error {
	c.mu.Lock()
	st := c.st
	already := c.closed
	c.closed = true
	c.mu.Unlock()
	if already || st == nil {
		return nil
	}
	return st.sync.close()
}

// innerDriver presents a mysql connector to sqlmw as a driver.
type innerDriver struct{ c driver.Connector }

func (d innerDriver) Open(string) (driver.Conn, error) { return d.c.Connect(context.Background()) }

func (d innerDriver) OpenConnector(string) (driver.Connector, error) { return d.c, nil }

// failedConnector reports a config error on every connection attempt.
type failedConnector struct{ err error }

func (f failedConnector) Connect(context.Context) (driver.Conn, error) { return nil, f.err }
func (f failedConnector) Driver() driver.Driver                        { return &Driver{} }
