package mysqletcd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fences are never deleted by a push (see etcdsync.go): a push stalled
// between its fence read and its compare-and-swap would find the fence's
// ModRevision back at 0 and could land a stale value. The collector deletes
// the fences of absent keys and bumps the mapping's epoch in the same Txn;
// every push compares the epoch too, so each push in flight fails and reads
// again. Each Txn also compares every fence's ModRevision and the data key's
// absence, so a key pushed meanwhile keeps its fence.

// gcChunk fences per collecting Txn: two compares each, under etcd's
// default limit of 128 operations per Txn.
const gcChunk = 60

// collectFences removes the fences of the mapping's absent keys that have
// not changed for the grace period.
func (p *pass) collectFences(ctx context.Context) error {
	watermark, err := p.s.gcWatermark(ctx, p.m, p.opts.FenceGrace)
	if err != nil || watermark == 0 {
		return err
	}
	fenceOf := p.s.cfg.FencePrefix + "/fence"
	return p.s.pageKeys(ctx, fenceOf+p.m.tmpl.prefix, func(kvs []*mvccpb.KeyValue) error {
		var old []fenceRev
		for _, kv := range kvs {
			data := strings.TrimPrefix(string(kv.Key), fenceOf)
			if _, ok := p.m.tmpl.parse(data); ok && kv.ModRevision < watermark {
				old = append(old, fenceRev{data: data, rev: kv.ModRevision})
			}
		}
		for start := 0; start < len(old); start += gcChunk {
			n, err := p.s.deleteFences(ctx, p.m, old[start:min(start+gcChunk, len(old))])
			if err != nil {
				return err
			}
			p.rep.FencesCollected += n
		}
		p.progress("fences")
		return nil
	})
}

// fenceRev is a fence found by the collector: its data key and ModRevision.
type fenceRev struct {
	data string
	rev  int64
}

// deleteFences deletes the fences of those of the keys that are absent, in
// one Txn guarded by every fence's revision and every key's absence, and
// bumps the epoch. It returns how many fences it deleted.
func (s *syncer) deleteFences(ctx context.Context, m *mapping, fences []fenceRev) (int64, error) {
	keys := make([]string, len(fences))
	for i, f := range fences {
		keys[i] = f.data
	}
	current, err := s.readValues(ctx, keys)
	if err != nil {
		return 0, err
	}
	var cmps []clientv3.Cmp
	var ops []clientv3.Op
	for i, f := range fences {
		if current[i] != nil {
			continue // a live key keeps its fence
		}
		fence := s.fenceKey(f.data)
		cmps = append(cmps,
			clientv3.Compare(clientv3.ModRevision(fence), "=", f.rev),
			clientv3.Compare(clientv3.Version(f.data), "=", 0))
		ops = append(ops, clientv3.OpDelete(fence))
	}
	if len(ops) == 0 {
		return 0, nil
	}
	ops = append(ops, clientv3.OpPut(m.epochKey, ""))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	resp, err := s.etcd.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, nil // a key was pushed meanwhile: the next run tries again
	}
	n := int64(len(ops) - 1)
	s.stats.fencesCollected.Add(n)
	return n, nil
}

// gcWatermark returns a revision at least grace old: fences last written
// before it are old enough to collect. etcd keeps no times, so each run
// leaves a mark (the current revision and the time) and a later run uses
// the mark once it is grace old; 0 means no revision is known to be old
// enough yet.
func (s *syncer) gcWatermark(ctx context.Context, m *mapping, grace time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	resp, err := s.etcd.Get(ctx, m.gcMarkKey)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var rev int64
	if len(resp.Kvs) > 0 {
		markRev, markTime, ok := parseGCMark(string(resp.Kvs[0].Value))
		if ok && now.Sub(markTime) < grace {
			return 0, nil // the mark is not old enough: keep it
		}
		if ok {
			rev = markRev
		}
	}
	mark := fmt.Sprintf("%d %d", resp.Header.Revision+1, now.UnixNano())
	_, err = s.etcd.Put(ctx, m.gcMarkKey, mark)
	return rev, err
}

func parseGCMark(v string) (rev int64, at time.Time, ok bool) {
	r, t, found := strings.Cut(v, " ")
	if !found {
		return 0, time.Time{}, false
	}
	rev, err1 := strconv.ParseInt(r, 10, 64)
	nanos, err2 := strconv.ParseInt(t, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, false
	}
	return rev, time.Unix(0, nanos), true
}
