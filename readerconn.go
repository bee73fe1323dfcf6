package mysqletcd

import (
	"context"
	"database/sql/driver"
)

// readerConnector opens the connections of the syncer's own pool on the
// app's mysql connector (its address, TLS and dialer), and resets the
// session settings a DSN may change that would make a re-read stale or
// dirty: every re-read must be a fresh autocommit read of committed rows.
// TIMESTAMP columns are read in UTC, text in UTF-8.
type readerConnector struct{ inner driver.Connector }

var readerSession = []string{
	"SET NAMES utf8mb4",
	"SET autocommit = 1, time_zone = '+00:00'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
}

func (r readerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := r.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	for _, stmt := range readerSession {
		if err := execText(ctx, conn, stmt); err != nil {
			conn.Close()
			return nil, err
		}
	}
	return conn, nil
}

func (r readerConnector) Driver() driver.Driver { return r.inner.Driver() }
