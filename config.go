package mysqletcd

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

// Config says which etcd cluster to keep in step and how each MySQL table
// maps to etcd keys. It is a plain value: load it with LoadConfig or
// ParseConfig, or build it in Go, then pass it to Register or OpenDB.
type Config struct {
	// Etcd is the cluster to write to.
	Etcd EtcdConfig `yaml:"etcd"`
	// Tables maps tables to keys. A table may have several mappings.
	Tables []Mapping `yaml:"tables"`

	// FencePrefix is where fence and epoch keys live; default "/_mysqletcd".
	// No mapping's keys may start with it.
	FencePrefix string `yaml:"fence-prefix"`
	// QueueSize bounds the number of keys waiting to be pushed; default
	// 100000. Beyond it, the table of a key that does not fit is resynced.
	QueueSize int `yaml:"queue-size"`
	// MaxTxKeys bounds the keys one transaction collects; default 10000.
	// A transaction that touches more resyncs the table instead.
	MaxTxKeys int `yaml:"max-tx-keys"`
	// Workers is the number of concurrent pushes; default 4.
	Workers int `yaml:"workers"`
	// BatchSize is the number of keys per etcd transaction; default 60,
	// at most 60 (etcd allows 128 operations per transaction by default).
	BatchSize int `yaml:"batch-size"`
	// DrainTimeout bounds how long Close waits for queued keys; default 10s.
	DrainTimeout time.Duration `yaml:"drain-timeout"`

	// Strict makes a mapped table that does not exist when the first
	// connection opens an error. By default it is a warning, and the
	// mapping starts working once DDL through the driver (or a check at a
	// later connection) finds the table: apps that create their schema
	// through the driver (AutoMigrate, migrations) open it first.
	Strict bool `yaml:"strict"`

	// Durable records every captured key in an outbox table inside the
	// writing transaction, so that keys committed but not yet pushed when
	// the process dies are pushed by another process's sweeper (or the
	// next one's). Costs one INSERT per write statement, and a wrapper
	// transaction around autocommit writes. Default off.
	Durable bool `yaml:"durable"`
	// OutboxTable names the outbox table, as table or db.table; default
	// "mysqletcd_outbox" in the DSN's database. It is created at the first
	// connection when missing and the user may (or: mysqletcd migrate).
	OutboxTable string `yaml:"outbox-table"`
	// OutboxSweepAfter is how old an outbox row must be before a sweeper
	// pushes it; default 5s.
	OutboxSweepAfter time.Duration `yaml:"outbox-sweep-after"`
	// OutboxSweepEvery is how often each process sweeps; default 1s.
	OutboxSweepEvery time.Duration `yaml:"outbox-sweep-every"`

	// ReconcileEvery turns on anti-entropy: every so often one process of
	// the fleet (elected through etcd) reconciles every mapping, which
	// fixes writes that never went through the driver. 0 (the default): off.
	ReconcileEvery time.Duration `yaml:"reconcile-every"`
	// ReconcileRate caps the anti-entropy table scans in rows per second;
	// 0: no cap.
	ReconcileRate float64 `yaml:"reconcile-rate"`
	// ElectionTTL is the lease of the anti-entropy leader: when the leader
	// dies, another process takes over within about this long; default 10s.
	ElectionTTL time.Duration `yaml:"election-ttl"`

	// Logger receives sync errors and notable events; default slog.Default().
	Logger *slog.Logger `yaml:"-"`
	// OnError, when set, is called with every sync error (a push that failed
	// and will be retried, a resync that failed). It must not block for long.
	OnError func(error) `yaml:"-"`
	// Trace, when set, is told about each step of each push. Its hooks run
	// synchronously on the push path.
	Trace *PushTrace `yaml:"-"`

	source *configSource // where LoadConfig read it, for error locations
	// Metrics is where the Prometheus metrics are registered (see
	// docs/observability.md); default prometheus.DefaultRegisterer.
	// Connectors that share a registry share its metrics; wrap it with
	// prometheus.WrapRegistererWith to tell them apart.
	Metrics prometheus.Registerer `yaml:"-"`
}

// EtcdConfig is how to reach etcd.
type EtcdConfig struct {
	Endpoints      []string      `yaml:"endpoints"`
	DialTimeout    time.Duration `yaml:"dial-timeout"`    // default 5s
	RequestTimeout time.Duration `yaml:"request-timeout"` // deadline of every etcd call; default 5s
	Username       string        `yaml:"username"`
	Password       string        `yaml:"password"`
	TLS            *TLSFiles     `yaml:"tls"`
	// TLSConfig, when set, is used as is instead of TLS.
	TLSConfig *tls.Config `yaml:"-"`
}

// TLSFiles names PEM files for a TLS connection to etcd.
type TLSFiles struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Mapping maps the rows of one table to one etcd key each.
type Mapping struct {
	// Table is "table" (in the DSN's database) or "schema.table".
	Table string `yaml:"table"`
	// Key is a template such as "/app/users/{id}": each {column} is replaced
	// by the row's value, escaped with url.PathEscape. The columns must hold
	// a primary or unique key of the table and be NOT NULL.
	Key string `yaml:"key"`
	// Value is what the key holds.
	Value Value `yaml:"value"`
	// Columns lists the columns of a JSON value; default all columns.
	Columns []string `yaml:"columns"`
	// Where is an SQL condition; rows that don't match have no key.
	Where string `yaml:"where"`
}

// Value is what a mapped key holds: a JSON object of the mapping's columns
// (the zero Value, or "json" in YAML), or the raw bytes of one column
// ({column: name} in YAML; NULL gives an empty value).
type Value struct {
	Column string `yaml:"column"`
}

// JSONValue is the Value that holds a JSON object of the mapping's columns.
var JSONValue = Value{}

// ColumnValue is the Value that holds the raw bytes of one column.
func ColumnValue(column string) Value { return Value{Column: column} }

// MarshalYAML writes "json" or {column: name}, as UnmarshalYAML reads.
func (v Value) MarshalYAML() (any, error) {
	if v.Column == "" {
		return "json", nil
	}
	return map[string]string{"column": v.Column}, nil
}

// UnmarshalYAML accepts "json" or {column: name}.
func (v *Value) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "json" {
			return fmt.Errorf("line %d: value %q: use \"json\" or {column: <name>}", n.Line, n.Value)
		}
		*v = JSONValue
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: value: use \"json\" or {column: <name>}", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i].Value; k != "column" {
			return fmt.Errorf("line %d: value: field %s not found: use {column: <name>}", n.Content[i].Line, k)
		}
		v.Column = n.Content[i+1].Value
	}
	if v.Column == "" {
		return fmt.Errorf("line %d: value: {column: <name>} needs a column name", n.Line)
	}
	return nil
}

// LoadConfig reads a config file: YAML, or JSON (which YAML reads too).
// ${NAME} and ${NAME:-default} are replaced with environment variables, so
// that passwords and endpoints can come from the environment. Errors, and
// those of Validate later, name the file, the line and the field.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: read %s: %w", ErrConfig, path, err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg.source.path = path
	return cfg, nil
}

// ParseConfig parses config text, YAML or JSON, after replacing ${NAME}
// and ${NAME:-default} with environment variables. Unknown fields are
// errors, so that a misspelt option does not pass unnoticed.
func ParseConfig(text []byte) (Config, error) {
	text, err := expandEnv(text, lookupEnv)
	if err != nil {
		return Config{}, err
	}
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader(string(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	cfg.source = &configSource{lines: fieldLines(text)}
	return cfg, nil
}

// WithDefaults returns cfg with every unset option at the default the
// driver uses, as the driver sees it (check-config --print shows it).
func (cfg Config) WithDefaults() Config { return cfg.withDefaults() }

// withDefaults returns cfg with every unset option at its default.
func (cfg Config) withDefaults() Config {
	if cfg.FencePrefix == "" {
		cfg.FencePrefix = "/_mysqletcd"
	}
	cfg.FencePrefix = strings.TrimRight(cfg.FencePrefix, "/")
	if cfg.QueueSize == 0 {
		cfg.QueueSize = 100000
	}
	if cfg.MaxTxKeys == 0 {
		cfg.MaxTxKeys = 10000
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 60
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.OutboxTable == "" {
		cfg.OutboxTable = "mysqletcd_outbox"
	}
	if cfg.OutboxSweepAfter == 0 {
		cfg.OutboxSweepAfter = 5 * time.Second
	}
	if cfg.OutboxSweepEvery == 0 {
		cfg.OutboxSweepEvery = time.Second
	}
	if cfg.ElectionTTL == 0 {
		cfg.ElectionTTL = 10 * time.Second
	}
	if cfg.Etcd.DialTimeout == 0 {
		cfg.Etcd.DialTimeout = 5 * time.Second
	}
	if cfg.Etcd.RequestTimeout == 0 {
		cfg.Etcd.RequestTimeout = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.DefaultRegisterer
	}
	return cfg
}
