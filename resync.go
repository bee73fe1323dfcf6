package mysqletcd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const resyncPage = 500

// pass reconciles one mapping: it first bumps the mapping's epoch, which
// fails every push that read before now, so none of them can land a row
// image older than the scan (nor create a key the key scan missed); then it
// pages through the table and through the key prefix and queues every key
// that differs; the queued keys go through the ordinary fenced push. Last,
// it collects old fences of absent keys.
type pass struct {
	s     *syncer
	m     *mapping
	opts  *ReconcileOptions
	rep   MappingReport
	start time.Time
	pace  pacer
	total int64 // rows in the table when the scan began, for progress
	// waiters are the push waiters of a resync: they wait for its keys too.
	waiters []*PushWaiter

	// A dry run's differing keys, held for a second look.
	held      []item
	heldKinds []DriftKind
	heldSince time.Time
}

func (p *pass) run(ctx context.Context) error {
	p.pace.start = time.Now()
	if !p.opts.DryRun {
		if err := p.s.bumpEpoch(ctx, p.m); err != nil {
			return err
		}
	}
	if p.opts.Progress != nil {
		p.total = p.countRows(ctx)
	}
	if err := p.scanRows(ctx); err != nil {
		return err
	}
	if err := p.recheck(ctx); err != nil {
		return err
	}
	if err := p.scanKeys(ctx); err != nil {
		return err
	}
	if err := p.recheck(ctx); err != nil {
		return err
	}
	if p.opts.DryRun || p.opts.FenceGrace < 0 {
		return nil
	}
	return p.collectFences(ctx)
}

func (s *syncer) bumpEpoch(ctx context.Context, m *mapping) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	_, err := s.etcd.Put(ctx, m.epochKey, "")
	return err
}

// countRows is the table's row count for progress reports; 0 if unknown.
func (p *pass) countRows(ctx context.Context) int64 {
	ctx, cancel := context.WithTimeout(ctx, p.s.cfg.Etcd.RequestTimeout*4)
	defer cancel()
	var n int64
	_ = p.s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteTable(p.m.table.schema, p.m.table.name)).Scan(&n)
	return n
}

func (p *pass) progress(phase string) {
	if p.opts.Progress == nil {
		return
	}
	p.opts.Progress(ReconcileProgress{
		Table: p.rep.Table, Key: p.rep.Key, Phase: phase,
		Rows: p.rep.RowsScanned, RowsTotal: p.total, Keys: p.rep.KeysScanned,
		Elapsed: time.Since(p.start),
	})
}

// pageSize keeps pages small enough for a rate limit to pace smoothly.
func (p *pass) pageSize() int {
	if p.pace.rate <= 0 {
		return resyncPage
	}
	return max(1, min(resyncPage, int(p.pace.rate/10)))
}

// scanRows pages through the table in the order of the unique key inside
// the mapping's key (keyset pagination) and handles the rows whose key is
// missing or stale.
func (p *pass) scanRows(ctx context.Context) error {
	m := p.m
	order := m.table.notNullUnique(m.keyCols)
	orderBy := m.table.orderExprs(order)
	base := m.selectList()
	page := p.pageSize()
	var last []any
	for {
		query := base
		if last != nil {
			query += " WHERE (" + orderBy + ") > " + placeholders(len(order))
		}
		query += " ORDER BY " + orderBy + " LIMIT " + itoa(page)
		qctx, cancel := context.WithTimeout(ctx, p.s.cfg.Etcd.RequestTimeout*4)
		rows, err := m.scanRows(qctx, p.s.db, query, last)
		cancel()
		if isNoSuchTable(err) {
			return nil // dropped: it has no rows, and every key is an orphan
		}
		if err != nil {
			return err
		}
		p.rep.RowsScanned += int64(len(rows))
		if err := p.compareRows(ctx, rows); err != nil {
			return err
		}
		p.progress("rows")
		if len(rows) < page {
			return nil
		}
		if err := p.pace.wait(ctx, len(rows)); err != nil {
			return err
		}
		lastRow := rows[len(rows)-1]
		last = last[:0]
		for _, c := range order {
			last = append(last, lastRow.keyVals[indexFold(m.keyCols, c)])
		}
	}
}

// compareRows reads the current values of the rows' keys and handles the
// keys whose value differs from what the row gives.
func (p *pass) compareRows(ctx context.Context, rows []foundRow) error {
	for start := 0; start < len(rows); start += 100 {
		chunk := rows[start:min(start+100, len(rows))]
		keys := make([]string, len(chunk))
		for i, r := range chunk {
			keys[i] = r.key
		}
		current, err := p.s.readValues(ctx, keys)
		if err != nil {
			return err
		}
		var diff []item
		var kinds []DriftKind
		for i, r := range chunk {
			kind, differs := driftOf(r, current[i])
			if !differs {
				if r.match {
					p.rep.Unchanged++
				}
				continue
			}
			diff = append(diff, item{m: p.m, key: r.key, vals: r.keyVals})
			kinds = append(kinds, kind)
		}
		if err := p.handle(ctx, diff, kinds); err != nil {
			return err
		}
	}
	return nil
}

// driftOf compares a row with its key's current value (nil: absent).
func driftOf(r foundRow, current []byte) (DriftKind, bool) {
	switch {
	case r.match && current == nil:
		return DriftMissing, true
	case r.match && !bytes.Equal(current, r.value):
		return DriftStale, true
	case !r.match && current != nil:
		return DriftOrphan, true
	}
	return "", false
}

// readValues reads keys' values in one Txn (nil for an absent key).
func (s *syncer) readValues(ctx context.Context, keys []string) ([][]byte, error) {
	ops := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		ops[i] = clientv3.OpGet(k)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	resp, err := s.etcd.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i := range keys {
		if kvs := resp.Responses[i].GetResponseRange().GetKvs(); len(kvs) > 0 {
			out[i] = kvs[0].Value
			if out[i] == nil {
				out[i] = []byte{}
			}
		}
	}
	return out, nil
}

// handle counts the differing keys of one page and queues them for a push.
// A dry run holds them back for a second look (see recheck).
func (p *pass) handle(ctx context.Context, diff []item, kinds []DriftKind) error {
	if len(diff) == 0 {
		return nil
	}
	if p.opts.DryRun {
		if len(p.held) == 0 {
			p.heldSince = time.Now()
		}
		p.held = append(p.held, diff...)
		p.heldKinds = append(p.heldKinds, kinds...)
		if len(p.held) < recheckBatch {
			return nil
		}
		return p.recheck(ctx)
	}
	p.count(diff, kinds)
	return p.s.q.addWait(ctx, diff, p.waiters...)
}

// count adds differing keys to the report.
func (p *pass) count(diff []item, kinds []DriftKind) {
	for i, it := range diff {
		switch kinds[i] {
		case DriftMissing:
			p.rep.Missing++
		case DriftStale:
			p.rep.Stale++
		case DriftOrphan:
			p.rep.Orphans++
		}
		if !p.opts.DryRun {
			if kinds[i] == DriftOrphan {
				p.rep.Deleted++
			} else {
				p.rep.Put++
			}
		}
		if len(p.rep.Samples) < p.opts.Samples {
			p.rep.Samples = append(p.rep.Samples, Drift{Key: it.key, Kind: kinds[i]})
		}
	}
}

// recheck reads the held keys again once recheckDelay has passed since they
// were found, etcd first and the database second as a push does, and counts
// those that still differ: a live write's push in flight is not drift.
func (p *pass) recheck(ctx context.Context) error {
	held, kinds := p.held, p.heldKinds
	p.held, p.heldKinds = nil, nil
	if len(held) == 0 {
		return nil
	}
	if err := sleepCtx(ctx, time.Until(p.heldSince.Add(recheckDelay))); err != nil {
		return err
	}
	for start := 0; start < len(held); start += 100 {
		chunk := held[start:min(start+100, len(held))]
		keys := make([]string, len(chunk))
		for i, it := range chunk {
			keys[i] = it.key
		}
		current, err := p.s.readValues(ctx, keys)
		if err != nil {
			return err
		}
		rows, err := p.s.readRows(ctx, p.m, chunk)
		if err != nil {
			return err
		}
		var still []item
		var stillKinds []DriftKind
		for i, it := range chunk {
			if !bytes.Equal(current[i], rows.want[i]) || (current[i] == nil) != (rows.want[i] == nil) {
				still = append(still, it)
				stillKinds = append(stillKinds, kinds[start+i])
			}
		}
		p.count(still, stillKinds)
	}
	return nil
}

// recheckBatch is how many differing keys a dry run holds before it looks
// at them again.
const recheckBatch = 1000

// recheckDelay lets the pushes of writes that committed during a dry run's
// page land before its differences are read again.
const recheckDelay = 100 * time.Millisecond

// scanKeys pages through the mapping's key prefix and handles the keys that
// no row renders to (orphans): their push deletes them.
func (p *pass) scanKeys(ctx context.Context) error {
	fences := p.s.cfg.FencePrefix + "/"
	return p.s.pageKeys(ctx, p.m.tmpl.prefix, func(kvs []*mvccpb.KeyValue) error {
		var batch []item
		for _, kv := range kvs {
			key := string(kv.Key)
			if strings.HasPrefix(key, fences) {
				continue
			}
			if it, ok := p.m.itemOf(key); ok {
				batch = append(batch, it)
			}
		}
		p.rep.KeysScanned += int64(len(batch))
		if err := p.findOrphans(ctx, batch); err != nil {
			return err
		}
		p.progress("keys")
		return nil
	})
}

// pageKeys calls page with each page of the keys under prefix, keys only
// (with their revisions), in key order.
func (s *syncer) pageKeys(ctx context.Context, prefix string, page func([]*mvccpb.KeyValue) error) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	for {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
		resp, err := s.etcd.Get(cctx, from, clientv3.WithRange(end), clientv3.WithKeysOnly(), clientv3.WithLimit(resyncPage))
		cancel()
		if err != nil {
			return err
		}
		if err := page(resp.Kvs); err != nil {
			return err
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// itemOf is the push item of one of the mapping's keys; false for a key the
// mapping cannot have rendered.
func (m *mapping) itemOf(key string) (item, bool) {
	texts, ok := m.tmpl.parse(key)
	if !ok {
		return item{}, false
	}
	vals := make([]any, len(texts))
	for i, t := range texts {
		vals[i] = t
	}
	return item{m: m, key: key, vals: vals}, true
}

// findOrphans handles the keys of batch that no row renders to. A key whose
// row exists but fails the where: filter was handled by the row scan.
func (p *pass) findOrphans(ctx context.Context, batch []item) error {
	m := p.m
	for start := 0; start < len(batch); start += resyncPage {
		chunk := batch[start:min(start+resyncPage, len(batch))]
		query, args := m.lookupQuery(chunk)
		qctx, cancel := context.WithTimeout(ctx, p.s.cfg.Etcd.RequestTimeout)
		rows, err := m.scanRows(qctx, p.s.db, query, args)
		cancel()
		if err != nil && !isNoSuchTable(err) {
			return err
		}
		rendered := make(map[string]bool, len(rows))
		for _, r := range rows {
			rendered[r.key] = true
		}
		var orphans []item
		var kinds []DriftKind
		for _, it := range chunk {
			if !rendered[it.key] {
				orphans = append(orphans, it)
				kinds = append(kinds, DriftOrphan)
			}
		}
		if err := p.handle(ctx, orphans, kinds); err != nil {
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
