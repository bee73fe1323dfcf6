package mysqletcd

import (
	"fmt"
	"log/slog"
)

// What the driver logs goes to Config.Logger (log/slog): sync errors at
// Warn, anti-entropy leadership and runs at Info. Records never hold the
// DSN, its password or the etcd password, nor row values. The etcd client
// logs nothing (a no-op zap logger), and a handle from sql.Open sends the
// mysql driver's own messages to Config.Logger too.

// mysqlLogger passes go-sql-driver/mysql's log messages to slog at Error,
// the level mysql logs at ("critical error messages").
type mysqlLogger struct{ l *slog.Logger }

func (m mysqlLogger) Print(v ...any) {
	m.l.Error("mysqletcd: mysql driver: " + fmt.Sprint(v...))
}

// redacted stands for a secret in printed configs.
const redacted = "[redacted]"

// String prints the etcd config with the password redacted, so that
// printing a Config (%v, %+v) does not show it.
func (ec EtcdConfig) String() string {
	return fmt.Sprintf("{Endpoints:%v DialTimeout:%v RequestTimeout:%v Username:%s Password:%s TLS:%v TLSConfig:%v}",
		ec.Endpoints, ec.DialTimeout, ec.RequestTimeout, ec.Username, redact(ec.Password), ec.TLS, ec.TLSConfig != nil)
}

// GoString is String for %#v.
func (ec EtcdConfig) GoString() string { return "mysqletcd.EtcdConfig" + ec.String() }

// LogValue logs the etcd config with the password redacted, with any
// slog handler.
func (ec EtcdConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("endpoints", ec.Endpoints),
		slog.Duration("dial-timeout", ec.DialTimeout),
		slog.Duration("request-timeout", ec.RequestTimeout),
		slog.String("username", ec.Username),
		slog.String("password", redact(ec.Password)),
		slog.Bool("tls", ec.TLS != nil || ec.TLSConfig != nil),
	)
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}
