package mysqletcd

import (
	"context"
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// The session variables capture depends on: autocommit, the default
// database, the isolation level (READ COMMITTED phantoms), and how the
// server hands out AUTO_INCREMENT values (multi-row inserts).

// isolationVars name the isolation level: MariaDB (and MySQL 5.7) first,
// MySQL 8 second.
var isolationVars = []string{"@@tx_isolation", "@@transaction_isolation"}

const sessionVars = "@@autocommit, DATABASE(), %s, @@innodb_autoinc_lock_mode, @@auto_increment_increment, @@sql_mode"

// readSessionVars reads them all in one statement (two on MySQL 8 the
// first time, which learns the isolation variable's name). With probe, the
// statement carries an arg: a connection that does not interpolate args
// answers ErrSkip without a round trip, which sets skipsArgs.
func (s *session) readSessionVars(ctx context.Context, probe bool) error {
	for _, iso := range isolationVars {
		if s.isolationVar != "" && iso != s.isolationVar {
			continue
		}
		query := "SELECT " + strings.Replace(sessionVars, "%s", iso, 1)
		var vals []any
		var err error
		if probe {
			vals, err = queryRow(ctx, s.conn, query+", ?", []driver.NamedValue{{Ordinal: 1, Value: int64(1)}})
			if errors.Is(err, errSkipped) {
				s.skipsArgs = true
			}
		}
		if !probe || errors.Is(err, errSkipped) {
			vals, err = queryRow(ctx, s.conn, query, nil)
		}
		if isUnknownVariable(err) {
			continue
		}
		if err != nil {
			// Multi-row inserts stop trusting the AUTO_INCREMENT settings.
			s.autoInc = autoIncrement{lockMode: 2}
			return err
		}
		s.isolationVar = iso
		s.autocommit = string(rawBytes(vals[0])) != "0"
		s.schema = string(rawBytes(vals[1]))
		s.isolation = string(rawBytes(vals[2]))
		s.autoInc.lockMode, _ = strconv.ParseInt(string(rawBytes(vals[3])), 10, 64)
		s.autoInc.increment, _ = strconv.ParseInt(string(rawBytes(vals[4])), 10, 64)
		s.autoInc.noAutoOnZero = strings.Contains(string(rawBytes(vals[5])), "NO_AUTO_VALUE_ON_ZERO")
		return nil
	}
	return errors.New("mysqletcd: the server has neither @@tx_isolation nor @@transaction_isolation")
}

// isUnknownVariable reports ER_UNKNOWN_SYSTEM_VARIABLE (1193).
func isUnknownVariable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1193
}
