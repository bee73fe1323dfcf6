package mysqletcd

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"sync"

	"github.com/go-sql-driver/mysql"
)

// DriverName is the name the package registers itself under.
const DriverName = "mysqletcd"

func init() {
	sql.Register(DriverName, &Driver{})
}

// Driver is the database/sql driver. Its DSNs are go-sql-driver/mysql DSNs;
// the driver removes its own parameter (mysqletcd-config) before mysql sees
// them. It is safe for concurrent use.
type Driver struct {
	cfg  *Config    // set by Register; nil: the DSN or the environment names a file
	conn *Connector // the Connector this driver value was handed out by, for ConnectorOf

	mu    sync.Mutex
	pipes map[string]*pipeline  // by DSN: what the handles of one DSN share
	byDSN map[string]*Connector // for callers of Open, which has no Close
}

// Register registers a driver under name whose mappings are cfg rather
// than a config file, for sql.Open(name, dsn).
func Register(name string, cfg Config) error {
	if slices.Contains(sql.Drivers(), name) {
		return fmt.Errorf("%w: driver name %q is taken: pick another", ErrConfig, name)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	sql.Register(name, &Driver{cfg: &cfg})
	return nil
}

// OpenConnector returns a Connector for the DSN; database/sql calls it
// once per sql.Open. Connectors of one DSN share a pipeline (the config
// file is read by the first), which stops when the last one closes.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p := d.pipes[dsn]; p != nil {
		p.mu.Lock()
		shared := !p.closed
		if shared {
			p.refs++
		}
		p.mu.Unlock()
		if shared {
			c := &Connector{pipe: p}
			c.drv = &Driver{cfg: d.cfg, conn: c}
			return c, nil
		}
	}
	c, err := d.newConnector(dsn)
	if err != nil {
		return nil, err
	}
	if d.pipes == nil {
		d.pipes = map[string]*pipeline{}
	}
	p := c.pipe
	d.pipes[dsn] = p
	p.release = func() {
		d.mu.Lock()
		if d.pipes[dsn] == p {
			delete(d.pipes, dsn)
		}
		d.mu.Unlock()
	}
	return c, nil
}

// newConnector parses the DSN, loads the config and makes a Connector with
// a pipeline of its own.
func (d *Driver) newConnector(dsn string) (*Connector, error) {
	mc, params, err := splitDSN(dsn)
	if err != nil {
		return nil, err
	}
	var cfg Config
	switch {
	case d.cfg != nil && params[DSNConfigParam] != "":
		return nil, fmt.Errorf("%w: dsn: %s is set, but this driver was registered with a Config: remove it from the DSN", ErrConfig, DSNConfigParam)
	case d.cfg != nil:
		cfg = *d.cfg
	default:
		path, err := configPath(params)
		if err != nil {
			return nil, err
		}
		if cfg, err = LoadConfig(path); err != nil {
			return nil, err
		}
	}
	mc.Logger = mysqlLogger{cfg.withDefaults().Logger}
	inner, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("%w: dsn: %w", ErrConfig, err)
	}
	c, err := NewConnector(inner, cfg)
	if err != nil {
		return nil, err
	}
	c.drv = &Driver{cfg: d.cfg, conn: c}
	return c, nil
}

// Open opens a connection. database/sql uses OpenConnector instead; Open
// serves callers that use the driver directly, with one Connector per DSN.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	d.mu.Lock()
	c := d.byDSN[dsn]
	d.mu.Unlock()
	if c == nil {
		dc, err := d.OpenConnector(dsn)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		if d.byDSN == nil {
			d.byDSN = map[string]*Connector{}
		}
		if d.byDSN[dsn] == nil {
			d.byDSN[dsn] = dc.(*Connector)
		} else {
			defer dc.(*Connector).Close() // another caller was first
		}
		c = d.byDSN[dsn]
		d.mu.Unlock()
	}
	return c.Connect(context.Background())
}
