package mysqletcd

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const resyncPage = 500

// resync brings every key of a mapping in line with its table, safely beside
// live writers: it first bumps the mapping's epoch, which fails every push
// that read before now, so none of them can land a row image older than the
// scan; then it pages through the table and through the key prefix and
// queues every key that differs. The queued keys go through the ordinary
// fenced push.
func (s *syncer) resync(ctx context.Context, m *mapping) error {
	if err := s.bumpEpoch(ctx, m); err != nil {
		return err
	}
	if err := s.resyncRows(ctx, m); err != nil {
		return err
	}
	return s.resyncKeys(ctx, m)
}

func (s *syncer) bumpEpoch(ctx context.Context, m *mapping) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	_, err := s.etcd.Put(ctx, m.epochKey, "")
	return err
}

// resyncRows pages through the table in the order of the unique key inside
// the mapping's key and queues the rows whose key is missing or stale.
func (s *syncer) resyncRows(ctx context.Context, m *mapping) error {
	order := m.table.notNullUnique(m.keyCols)
	orderBy := m.table.orderExprs(order)
	base := m.selectList()
	var last []any
	for {
		query := base
		if last != nil {
			query += " WHERE (" + orderBy + ") > " + placeholders(len(order))
		}
		query += " ORDER BY " + orderBy + " LIMIT " + itoa(resyncPage)
		qctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout*4)
		rows, err := m.scanRows(qctx, s.db, query, last)
		cancel()
		if isNoSuchTable(err) {
			return nil // dropped: it has no rows, and every key is an orphan
		}
		if err != nil {
			return err
		}
		if err := s.queueDiffering(ctx, m, rows); err != nil {
			return err
		}
		if len(rows) < resyncPage {
			return nil
		}
		lastRow := rows[len(rows)-1]
		last = last[:0]
		for _, c := range order {
			last = append(last, lastRow.keyVals[indexFold(m.keyCols, c)])
		}
	}
}

// queueDiffering reads the current values of the rows' keys and queues the
// keys whose value differs from what the row gives.
func (s *syncer) queueDiffering(ctx context.Context, m *mapping, rows []foundRow) error {
	for start := 0; start < len(rows); start += 100 {
		chunk := rows[start:min(start+100, len(rows))]
		ops := make([]clientv3.Op, len(chunk))
		for i, r := range chunk {
			ops[i] = clientv3.OpGet(r.key)
		}
		cctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
		resp, err := s.etcd.Txn(cctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return err
		}
		var diff []item
		for i, r := range chunk {
			kvs := resp.Responses[i].GetResponseRange().GetKvs()
			exists := len(kvs) > 0
			if r.match != exists || (exists && !bytes.Equal(kvs[0].Value, r.value)) {
				diff = append(diff, item{m: m, key: r.key, vals: r.keyVals})
			}
		}
		if err := s.q.addWait(ctx, diff); err != nil {
			return err
		}
	}
	return nil
}

// resyncKeys pages through the mapping's key prefix and queues the keys that
// no matching row renders to (orphans): their push deletes them.
func (s *syncer) resyncKeys(ctx context.Context, m *mapping) error {
	prefix := m.tmpl.prefix
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	fences := s.cfg.FencePrefix + "/"
	for {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
		resp, err := s.etcd.Get(cctx, from, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(resyncPage))
		cancel()
		if err != nil {
			return err
		}
		var batch []item
		for _, kv := range resp.Kvs {
			key := string(kv.Key)
			if strings.HasPrefix(key, fences) {
				continue
			}
			texts, ok := m.tmpl.parse(key)
			if !ok {
				continue // another mapping's key, or not ours
			}
			vals := make([]any, len(texts))
			for i, t := range texts {
				vals[i] = t
			}
			batch = append(batch, item{m: m, key: key, vals: vals})
		}
		if err := s.queueOrphans(ctx, m, batch); err != nil {
			return err
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// queueOrphans queues the keys of batch that no matching row renders to.
func (s *syncer) queueOrphans(ctx context.Context, m *mapping, batch []item) error {
	for start := 0; start < len(batch); start += resyncPage {
		chunk := batch[start:min(start+resyncPage, len(batch))]
		if len(chunk) == 0 {
			break
		}
		query, args := m.lookupQuery(chunk)
		qctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
		rows, err := m.scanRows(qctx, s.db, query, args)
		cancel()
		if err != nil && !isNoSuchTable(err) {
			return err
		}
		live := make(map[string]bool, len(rows))
		for _, r := range rows {
			if r.match {
				live[r.key] = true
			}
		}
		var orphans []item
		for _, it := range chunk {
			if !live[it.key] {
				orphans = append(orphans, it)
			}
		}
		if err := s.q.addWait(ctx, orphans); err != nil {
			return err
		}
	}
	return nil
}

// isNoSuchTable reports MySQL's ER_NO_SUCH_TABLE (1146).
func isNoSuchTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}

func indexFold(list []string, name string) int {
	for i, x := range list {
		if strings.EqualFold(x, name) {
			return i
		}
	}
	return -1
}

// orderExprs is the keyset order over cols. ENUM and SET sort by their
// index but compare with a string by value; their text serves for both.
func (t *table) orderExprs(cols []string) string {
	out := make([]string, len(cols))
	for i, n := range cols {
		out[i] = quoteIdent(n)
		if c, _ := t.column(n); c.dataType == "enum" || c.dataType == "set" {
			out[i] = "CAST(" + out[i] + " AS CHAR)"
		}
	}
	return strings.Join(out, ", ")
}
