package mysqletcd

import (
	"context"
	"errors"

	"github.com/go-sql-driver/mysql"
)

// capture is what one statement changed: keys, and tables whose keys could
// not be told, to resync.
type capture struct {
	items   []item
	resyncs map[*table]string // table -> reason
}

// addImages adds the keys, under every mapping of t, of rows given by their
// id column values (t.idCols order). An image without a mapping's key
// values (an INSERT that left them to the server) is skipped for it: the
// plan only allows that for columns no mapping keys on.
func (c *capture) addImages(t *table, imgs [][]any) {
	for _, img := range imgs {
		for _, m := range t.mappings {
			vals := make([]any, len(m.keyCols))
			texts := make([]string, len(m.keyCols))
			complete := true
			for i, kc := range m.keyCols {
				j := indexFold(t.idCols, kc)
				vals[i] = img[j]
				if img[j] == nil {
					complete = false
					break
				}
				col, _ := t.column(kc)
				texts[i] = keyText(col, img[j])
			}
			if complete {
				c.items = append(c.items, item{m: m, key: m.tmpl.render(texts), vals: vals})
			}
		}
	}
}

func (c *capture) resync(t *table, reason string) {
	if c.resyncs == nil {
		c.resyncs = map[*table]string{}
	}
	c.resyncs[t] = reason
}

func (c *capture) empty() bool { return len(c.items) == 0 && len(c.resyncs) == 0 }

// enqueueCapture hands a committed capture to the pipeline, for push
// waiters ws.
func (s *syncer) enqueueCapture(c *capture, ws ...*PushWaiter) {
	if c.empty() {
		return
	}
	var items []item
	for _, it := range c.items {
		if _, whole := c.resyncs[it.m.table]; !whole {
			items = append(items, it)
		}
	}
	if len(items) > 0 {
		s.enqueue(items, ws...)
	}
	for t, reason := range c.resyncs {
		for _, m := range t.mappings {
			s.countFallback(m, reason)
			s.requestResync(m, ws...)
		}
	}
}

// record adds a statement's capture to the open transaction, or hands it to
// the pipeline at once when the statement committed on its own.
func (s *session) record(c *capture) {
	if c.empty() {
		return
	}
	if !s.inTx() {
		s.enqueueCapture(c)
		return
	}
	if s.tx == nil {
		s.tx = &txCapture{}
	}
	if s.durable() {
		s.noteOutbox(c, func() { s.tx.add(c, s.st.cfg.MaxTxKeys) })
	} else {
		s.tx.add(c, s.st.cfg.MaxTxKeys)
	}
	s.tx.join(s.waiter)
}

func (tx *txCapture) add(c *capture, maxKeys int) {
	if tx.items == nil {
		tx.items = map[entryKey]item{}
	}
	for t, reason := range c.resyncs {
		tx.markResync(t, reason)
	}
	for _, it := range c.items {
		if _, whole := tx.resync[it.m.table]; whole {
			continue
		}
		if len(tx.items) >= maxKeys {
			// Bounded memory: past MaxTxKeys the table resyncs instead.
			tx.markResync(it.m.table, reasonTxTooLarge)
			continue
		}
		tx.items[entryKey{it.m, it.key}] = it
	}
}

func (tx *txCapture) markResync(t *table, reason string) {
	if tx.resync == nil {
		tx.resync = map[*table]string{}
	}
	if _, ok := tx.resync[t]; ok {
		return
	}
	tx.resync[t] = reason
	for k := range tx.items {
		if k.m.table == t {
			delete(tx.items, k)
		}
	}
}

// commitOpen hands the open transaction's keys to the syncer: it committed.
func (s *session) commitOpen() {
	tx := s.tx
	s.tx = nil
	if tx == nil {
		return
	}
	c := capture{resyncs: tx.resync}
	for _, it := range tx.items {
		c.items = append(c.items, it)
	}
	s.enqueueCapture(&c, tx.waiters...)
}

func (s *session) setAutocommit(ctx context.Context, sp stmtPlan) {
	on := sp.autocommit
	if sp.unknownValue {
		vals, err := queryRow(ctx, s.conn, "SELECT @@autocommit", nil)
		on = err != nil || string(rawBytes(vals[0])) != "0"
	}
	if on && !s.autocommit {
		s.commitOpen() // SET autocommit=1 commits the open transaction
	}
	s.autocommit = on
}

// afterError follows the transaction state after a failed statement. Most
// errors roll back the statement only, but a deadlock (1213) and, with
// innodb_rollback_on_timeout, a lock wait timeout (1205) roll back the whole
// transaction: the app's next statements then autocommit, and its keys must
// not wait for a ROLLBACK that would drop them.
func (s *session) afterError(ctx context.Context, err error) {
	var me *mysql.MySQLError
	if s.tx == nil || !errors.As(err, &me) || (me.Number != 1213 && me.Number != 1205) {
		return
	}
	rolledBack := me.Number == 1213
	if vals, qerr := queryRow(context.WithoutCancel(ctx), s.conn, "SELECT @@in_transaction", nil); qerr == nil {
		rolledBack = string(rawBytes(vals[0])) == "0" // MariaDB says; MySQL has no such variable
	}
	if rolledBack {
		s.tx = nil
	}
}
