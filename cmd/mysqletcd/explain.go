package main

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// explain is the text of a failed command's error, with the package's
// "mysqletcd: " prefix dropped (the command's own prefix says as much) and
// a hint added for the failures a wrong DSN or config causes.
func explain(err error) string {
	msg := strings.TrimPrefix(err.Error(), "mysqletcd: ")
	if hint := hintFor(err); hint != "" {
		msg += ": " + hint
	}
	return msg
}

func hintFor(err error) string {
	var me *mysql.MySQLError
	var dial *net.OpError
	switch {
	case errors.As(err, &me) && me.Number == 1045:
		return "check the user and password in the DSN (--dsn or MYSQLETCD_DSN)"
	case errors.As(err, &me) && me.Number == 1049:
		return "check the database name in the DSN (--dsn or MYSQLETCD_DSN)"
	case errors.As(err, &dial) && dial.Op == "dial":
		return "check the address in the DSN and that the database is running"
	case errors.Is(err, fs.ErrNotExist):
		return "check the config path (--config, the DSN's mysqletcd-config parameter or MYSQLETCD_CONFIG)"
	case errors.Is(err, context.DeadlineExceeded):
		return "etcd or the database did not answer in time: check etcd.endpoints in the config and that both are running"
	}
	return ""
}
