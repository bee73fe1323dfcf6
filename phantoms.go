package mysqletcd

import (
	"context"
	"database/sql/driver"
	"strings"
)

// Under READ COMMITTED (and READ UNCOMMITTED) InnoDB takes no gap locks: a
// row another transaction inserts into the WHERE's range after the
// before-image's SELECT ... FOR UPDATE, and commits before the write, is
// written without having been read (a phantom). Two checks catch it: the
// same SELECT run again after the write finds phantoms that still match,
// and a write that changed more rows than the before-image read found
// phantoms that moved out of the WHERE: the table then resyncs.
// REPEATABLE READ and SERIALIZABLE need neither: their next-key locks keep
// phantoms out.

// weakIsolation reports whether the open transaction (or the next
// autocommit statement) runs under READ COMMITTED or READ UNCOMMITTED.
func (s *session) weakIsolation() bool {
	if s.nextIsolationWeak {
		return true
	}
	if s.tx != nil && s.tx.isolation != "" {
		return weakLevel(s.tx.isolation)
	}
	return weakLevel(s.isolation)
}

func weakLevel(level string) bool {
	l := strings.ToUpper(strings.ReplaceAll(level, "-", " "))
	return strings.Contains(l, "READ COMMITTED") || strings.Contains(l, "READ UNCOMMITTED")
}

// isolationOf is the level a BeginTx asked for, as MySQL names it; empty
// for the session's default.
func isolationOf(opts driver.TxOptions) string {
	switch opts.Isolation {
	case 1:
		return "READ UNCOMMITTED"
	case 2:
		return "READ COMMITTED"
	case 4:
		return "REPEATABLE READ"
	case 6:
		return "SERIALIZABLE"
	}
	return ""
}

// phantoms adds the rows a weakly isolated write reached without the
// before-image having read them, or resyncs the table when it cannot.
func (s *session) phantoms(ctx context.Context, w *tableWrite, args []driver.NamedValue, res driver.Result, before [][]any, c *capture) error {
	if w.how != captureBefore || !s.weakIsolation() {
		return nil
	}
	if n, err := res.RowsAffected(); err != nil || n > int64(len(before)) {
		c.resync(w.t, reasonUnsupported)
		return nil
	}
	again := strings.TrimSuffix(w.before, " FOR UPDATE")
	imgs, err := queryRows(ctx, s.conn, again, pickArgs(args, w.beforeParams))
	if err != nil {
		return err
	}
	c.addImages(w.t, imgs)
	return nil
}
