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
//
// Handles that sql.Open opens with the same DSN share one pipeline (the
// schema, the syncer's connections, the etcd client and the push workers):
// resources do not grow with the number of handles, and the pipeline stops
// when the last of them closes.
type Connector struct {
	pipe *pipeline
	drv  driver.Driver

	closeOnce sync.Once
	closeErr  error
}

// pipeline is what Connectors share: the config, the mysql connector and,
// from the first connection on, the state.
type pipeline struct {
	inner   driver.Connector
	cfg     Config
	metrics *metrics

	mu     sync.Mutex
	st     *state
	refs   int
	closed bool
	// release takes the pipeline out of the registry that shares it.
	release func()
}

// NewConnector wraps a connector of github.com/go-sql-driver/mysql (from
// mysql.NewConnector, which keeps its TLS config and dialer). cfg is checked
// with Validate, and the metrics are registered on cfg.Metrics.
func NewConnector(inner driver.Connector, cfg Config) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &pipeline{inner: inner, cfg: cfg.withDefaults(), refs: 1}
	var err error
	if p.metrics, err = registerMetrics(p.cfg.Metrics); err != nil {
		return nil, err
	}
	c := &Connector{pipe: p}
	c.drv = &Driver{cfg: &p.cfg, conn: c}
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
	st.reloadIfCreated(ctx)
	// One sqlmw wrapper per connection: the interceptor is the session,
	// which holds this connection's transaction state.
	wrapped := sqlmw.Driver(innerDriver{c.pipe.inner}, &session{st: st}).(driver.DriverContext)
	wc, err := wrapped.OpenConnector("")
	if err != nil {
		return nil, err
	}
	return wc.Connect(ctx)
}

// state binds the schema and starts the syncer on first use.
func (c *Connector) state(ctx context.Context) (*state, error) {
	p := c.pipe
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.st != nil {
		return p.st, nil
	}
	st, err := start(ctx, p.cfg, p.inner, p.metrics)
	if err != nil {
		return nil, err
	}
	p.st = st
	return st, nil
}

// started is the state if the first connection has opened, else nil.
func (c *Connector) started() *state {
	c.pipe.mu.Lock()
	defer c.pipe.mu.Unlock()
	return c.pipe.st
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
	st := c.started()
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
	for _, m := range st.sync.working() {
		st.sync.requestResync(m)
	}
	return st.sync.flush(ctx)
}

// Stats returns running totals of the push pipeline.
func (c *Connector) Stats() Stats {
	st := c.started()
	if st == nil {
		return Stats{Fallbacks: map[string]int64{}}
	}
	return st.sync.snapshotStats()
}

// Close releases the connector. When it is the last one sharing its
// pipeline, Close pushes what is queued (bounded by Config.DrainTimeout)
// and stops the pipeline's goroutines. database/sql calls it from DB.Close.
func (c *Connector) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.pipe.unref() })
	return c.closeErr
}

// unref drops one user of the pipeline and stops it after the last.
func (p *pipeline) unref() error {
	p.mu.Lock()
	p.refs--
	if p.refs > 0 {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	st := p.st
	release := p.release
	p.mu.Unlock()
	if release != nil {
		release()
	}
	if st == nil {
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
