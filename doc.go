// Package mysqletcd is a database/sql driver for MySQL and MariaDB that
// keeps etcd in step with the tables you map. Apps keep writing MySQL as
// before and change only the driver name:
//
//	import _ "github.com/mysqletcd/mysqletcd"
//
//	db, err := sql.Open("mysqletcd", "app:pw@tcp(db:3306)/app?mysqletcd-config=/etc/app/mysqletcd.yaml")
//
// with a config file such as
//
//	etcd:
//	  endpoints: [127.0.0.1:2379]
//	tables:
//	  - table: users
//	    key: /app/users/{id}
//	    value: json
//
// The driver wraps github.com/go-sql-driver/mysql. It sees every write to a
// mapped table, learns which keys it changes (from the statement, or by
// reading the rows it changes in the same transaction), and after commit
// re-reads those rows and writes them to etcd with a compare-and-swap on a
// fence key per data key. However many processes write the same rows, etcd
// converges to the database; a committed transaction is never reported as
// failed because etcd is slow or down.
//
// Go programs can build the Config in code and use Register or OpenDB
// instead of a file. The DSN is a go-sql-driver/mysql DSN; the config file
// is named by its mysqletcd-config parameter or else by the MYSQLETCD_CONFIG
// environment variable.
//
// A caller that must read its own writes from etcd passes a context from
// WithPushWaiter to the writes and waits on the PushWaiter after commit.
// Metrics go to a Prometheus registry (Config.Metrics), logs to
// Config.Logger.
//
// Connections returned by sql.Conn.Raw are the driver's wrappers, not
// *mysql.mysqlConn values.
package mysqletcd
