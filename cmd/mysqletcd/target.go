package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/mysqletcd/mysqletcd"
)

// EnvDSN is the environment variable that holds the DSN when --dsn is not
// given.
const EnvDSN = "MYSQLETCD_DSN"

// connFlags say where the database and the config are.
type connFlags struct {
	dsn    string
	config string
}

func (f *connFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.dsn, "dsn", "", "go-sql-driver/mysql `DSN`, such as user:password@tcp(host:3306)/db\n(default $"+EnvDSN+")")
	fs.StringVar(&f.config, "config", "", "mapping config `FILE` (default: the DSN's "+mysqletcd.DSNConfigParam+"=FILE\nparameter, else $"+mysqletcd.EnvConfig+")")
}

// target is what a command works on: the database and the config.
type target struct {
	mysql      *mysql.Config // nil when no DSN was given and none was needed
	configPath string
	cfg        mysqletcd.Config
}

// resolve finds the DSN and the config, from the command's flags, then the
// flags before the command, then the environment, and loads the config.
// needDSN says whether the command cannot work without a database.
func (inv *invocation) resolve(f *connFlags, needDSN bool) (*target, error) {
	dsn := firstSet(f.dsn, inv.global.dsn, inv.getenv(EnvDSN))
	inv.hideDSNPassword(dsn)
	t := &target{}
	var dsnConfig string
	switch {
	case dsn != "":
		mc, path, err := mysqletcd.ParseDSN(dsn)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), mysqletcd.ErrConfig.Error()+": dsn: ")
			return nil, usagef("--dsn: %s: write user:password@tcp(host:3306)/database", msg)
		}
		inv.hide(mc.Passwd)
		t.mysql, dsnConfig = mc, path
	case needDSN:
		return nil, usagef("no database: pass --dsn 'user:password@tcp(host:3306)/database' or set %s", EnvDSN)
	}
	t.configPath = firstSet(f.config, inv.global.config, dsnConfig, inv.getenv(mysqletcd.EnvConfig))
	if t.configPath == "" {
		return nil, usagef("no config: pass --config /path/to/mysqletcd.yaml, set %s, or add %s=/path/to/mysqletcd.yaml to the DSN",
			mysqletcd.EnvConfig, mysqletcd.DSNConfigParam)
	}
	cfg, err := mysqletcd.LoadConfig(t.configPath)
	if err != nil {
		return nil, err
	}
	inv.hide(cfg.Etcd.Password)
	t.cfg = cfg
	return t, nil
}

// connect opens a connector over the target; its log lines, warnings and
// up, go to logTo with the secrets cut out. The caller closes it.
func (t *target) connect(inv *invocation, logTo io.Writer) (*mysqletcd.Connector, error) {
	inner, err := mysql.NewConnector(t.mysql)
	if err != nil {
		return nil, err
	}
	cfg := t.cfg
	cfg.Logger = slog.New(slog.NewTextHandler(redactingWriter{inv, logTo}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return mysqletcd.NewConnector(inner, cfg)
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
