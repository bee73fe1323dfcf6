package mysqletcd

import (
	"testing"
	"time"
)

// A WHERE on the clock is evaluated again by the write, a moment after the
// before-image: a row that starts to match in between is written without
// having been read. The phantom checks catch it, under REPEATABLE READ too.
func TestAWhereOnTheClockMissesNoRowThatStartsToMatch(t *testing.T) {
	for _, stmt := range []string{
		"UPDATE sessions SET state = 'expired' WHERE expires_at < UNIX_TIMESTAMP(NOW(6)) * 1000 AND state = 'live'",
		"UPDATE sessions SET note = 'seen' WHERE expires_at < UNIX_TIMESTAMP(CURRENT_TIMESTAMP(6)) * 1000",
		"DELETE FROM sessions WHERE expires_at < UNIX_TIMESTAMP(NOW(6)) * 1000",
	} {
		t.Run(stmt, func(t *testing.T) {
			e := newEnv(t, `CREATE TABLE sessions (id INT PRIMARY KEY, expires_at BIGINT NOT NULL,
				state VARCHAR(8) NOT NULL DEFAULT 'live', note VARCHAR(8) NULL)`,
				Mapping{Table: "sessions", Key: "{p}/sessions/{id}", Value: JSONValue})
			db, c := e.open(nil)
			now := time.Now().UnixMilli() // expires_at is in milliseconds
			mustExec(t, db, "INSERT INTO sessions (id, expires_at) VALUES (1, ?), (2, ?), (3, ?)", now-3600e3, now+300, now+3600e3)
			e.converged()
			c.pipe.st.beforeImageRead = func() { time.Sleep(600 * time.Millisecond) } // row 2 expires meanwhile
			defer func() { c.pipe.st.beforeImageRead = nil }()
			mustExec(t, db, stmt)
			e.converged()
		})
	}
}
