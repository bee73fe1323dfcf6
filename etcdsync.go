package mysqletcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type etcdResponseOp = pb.ResponseOp

// The push protocol, per batch of keys of one mapping:
//
//	loop:
//	  epoch, fences, current := one etcd Txn of Gets      (one revision)
//	  rows := SELECT ... WHERE key columns IN (...)       (fresh, autocommit, not intercepted)
//	  want := the mapping applied to each row (absent: no row or filtered out)
//	  Txn(If  epoch and every fence still have the ModRevision read
//	      Then Put every fence; Put or Delete each key whose value changes)
//	  success: done; failure: loop, reading the fences again.
//
// Any push that read the database before a commit either read its fence
// before that commit's own push wrote the fence, and so fails its compare,
// or it read the database after the commit: etcd converges to the database.
// The fence, not the data key, carries the compare because a deleted key's
// ModRevision reads 0 again, which would let a stale "absent" reader
// overwrite a later delete. Fences are never deleted by a push. The epoch is
// bumped by a table resync to stop every push that read before it.

// item is one key to push: the mapping, the rendered key, and the values of
// the mapping's key columns to look the row up with.
type item struct {
	m    *mapping
	key  string
	vals []any
}

// snapshot is what a push read from etcd at one revision.
type snapshot struct {
	epoch   int64
	fences  []int64  // ModRevision of each key's fence; 0 when absent
	current [][]byte // each key's value; nil when absent
}

func (s *syncer) fenceKey(key string) string { return s.cfg.FencePrefix + "/fence" + key }

// push brings the keys of one batch in line with the database. It returns
// rows found through the batch's lookups that render to other keys (a
// statement said 'BOB', the row says 'bob'), which need their own push.
func (s *syncer) push(ctx context.Context, m *mapping, batch []item) ([]item, error) {
	keys := make([]string, len(batch))
	for i, it := range batch {
		keys[i] = it.key
	}
	var snap *snapshot
	conflicts := 0
	// Durable mode: the outbox rows of the keys, read before the rows, are
	// satisfied once the compare-and-swap succeeds. The sweeper deletes
	// the rows it claims itself.
	var outboxIDs []int64
	outboxRead := s.outbox == "" || ctx.Value(sweepingKey{}) != nil
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if attempt > 0 {
			s.metrics.retry(m)
		}
		if snap == nil {
			var err error
			if snap, err = s.readFences(ctx, m, keys); err != nil {
				s.failed(ctx, m, len(batch), attempt, fmt.Errorf("read fences of %s: %w", m, err))
				continue
			}
		}
		s.cfg.Trace.fencesRead(keys)
		if !outboxRead {
			// Best effort: rows left in the outbox cost a second push by a
			// sweeper later, while an error here must not hold the push up.
			var err error
			if outboxIDs, err = s.outboxIDs(ctx, m, keys); err != nil && ctx.Err() == nil {
				s.stats.errors.Add(1)
				s.report(fmt.Errorf("%s: %w", m, err))
			}
			outboxRead = true
		}
		rows, err := s.readRows(ctx, m, batch)
		if err != nil {
			// The fences read stay valid: a later DB read is only fresher.
			s.failed(ctx, m, len(batch), attempt, fmt.Errorf("read rows of %s: %w", m, err))
			continue
		}
		s.cfg.Trace.rowsRead(keys)
		ok, next, err := s.swap(ctx, m, keys, snap, rows.want)
		if isTooLarge(err) {
			// Refused unread, so not applied: split, or give the key up.
			return s.tooLarge(ctx, m, batch, rows, outboxIDs, err)
		}
		if err != nil {
			// The outcome is unknown: it may have been applied. Start again
			// from the fences, never assume.
			snap = nil
			s.failed(ctx, m, len(batch), attempt, fmt.Errorf("compare-and-swap %s: %w", m, err))
			continue
		}
		s.cfg.Trace.swapped(keys, ok)
		if ok {
			s.pushedOutbox(outboxIDs)
			s.countPushed(m, snap, rows.want)
			return rows.others, nil
		}
		s.stats.conflicts.Add(1)
		s.metrics.conflict(m)
		conflicts++
		snap = next
		if conflicts >= 2 && len(batch) > 1 {
			// Contention: halve the batch so that the keys nobody else is
			// pushing stop paying for the ones somebody is.
			return s.split(ctx, m, batch)
		}
		if conflicts > 1 {
			if err := sleepCtx(ctx, backoff(conflicts, conflictBackoff)); err != nil {
				return nil, err
			}
		}
	}
}

// split pushes the two halves of batch one after the other.
func (s *syncer) split(ctx context.Context, m *mapping, batch []item) ([]item, error) {
	h := len(batch) / 2
	a, errA := s.push(ctx, m, batch[:h])
	b, errB := s.push(ctx, m, batch[h:])
	if errA != nil {
		return append(a, b...), errA
	}
	return append(a, b...), errB
}

// tooLarge handles a batch whose compare-and-swap etcd refused for its size
// (--max-request-bytes, or the gRPC message limit of either side). A batch
// is halved until its parts fit. A single key that alone is too large is
// given up, reported with ErrValueTooLarge and counted: etcd keeps what it
// held, since a delete would tell watchers that a row that exists is gone.
// Nothing is written for it, not even its fence, so the ordering of other
// pushes of the key is untouched; the next write that makes the row fit is
// pushed as usual. Its outbox rows are satisfied as by a push: a sweeper
// would only fail the same way.
func (s *syncer) tooLarge(ctx context.Context, m *mapping, batch []item, rows rowsRead, outboxIDs []int64, err error) ([]item, error) {
	if len(batch) > 1 {
		return s.split(ctx, m, batch) // each half reads its own outbox rows
	}
	s.pushedOutbox(outboxIDs)
	s.stats.tooLarge.Add(1)
	s.metrics.valueTooLarge(m)
	s.report(fmt.Errorf("%w: table %s, key %s: value of %d bytes not pushed, etcd keeps its previous value: %w",
		ErrValueTooLarge, m.table.qualified(), batch[0].key, len(rows.want[0]), err))
	return rows.others, nil
}

// isTooLarge reports whether etcd, or the gRPC layer of the client or the
// server, refused a request for its size, before applying it.
func isTooLarge(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return true
	}
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "larger than max")
}

// failed reports a failed step of a push of n keys of m and waits before the
// next attempt.
func (s *syncer) failed(ctx context.Context, m *mapping, n, attempt int, err error) {
	if ctx.Err() != nil {
		return
	}
	s.stats.errors.Add(1)
	s.metrics.pushed(m, outcomeError, n)
	s.report(err)
	_ = sleepCtx(ctx, backoff(attempt+1, errorBackoff))
}

// readFences reads the mapping's epoch and each key's fence and value in one
// Txn, so at one revision.
func (s *syncer) readFences(ctx context.Context, m *mapping, keys []string) (*snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	resp, err := s.etcd.Txn(ctx).Then(s.getOps(m, keys)...).Commit()
	if err != nil {
		return nil, err
	}
	return snapshotOf(resp.Responses, len(keys)), nil
}

// getOps reads the epoch, then each key's fence and value.
func (s *syncer) getOps(m *mapping, keys []string) []clientv3.Op {
	ops := make([]clientv3.Op, 0, 1+2*len(keys))
	ops = append(ops, clientv3.OpGet(m.epochKey, clientv3.WithKeysOnly()))
	for _, k := range keys {
		ops = append(ops, clientv3.OpGet(s.fenceKey(k), clientv3.WithKeysOnly()), clientv3.OpGet(k))
	}
	return ops
}

func snapshotOf(resps []*etcdResponseOp, n int) *snapshot {
	snap := &snapshot{fences: make([]int64, n), current: make([][]byte, n)}
	snap.epoch = modRevision(resps[0])
	for i := 0; i < n; i++ {
		snap.fences[i] = modRevision(resps[1+2*i])
		if kvs := resps[2+2*i].GetResponseRange().GetKvs(); len(kvs) > 0 {
			snap.current[i] = kvs[0].Value
			if snap.current[i] == nil {
				snap.current[i] = []byte{}
			}
		}
	}
	return snap
}

func modRevision(r *etcdResponseOp) int64 {
	if kvs := r.GetResponseRange().GetKvs(); len(kvs) > 0 {
		return kvs[0].ModRevision
	}
	return 0
}

// swap writes the batch if neither the epoch nor any fence moved since snap.
// When one did, it reports !ok, and the push reads the fences again (next
// is always nil).
func (s *syncer) swap(ctx context.Context, m *mapping, keys []string, snap *snapshot, want [][]byte) (ok bool, next *snapshot, err error) {
	cmps := make([]clientv3.Cmp, 0, 1+len(keys))
	cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(m.epochKey), "=", snap.epoch))
	ops := make([]clientv3.Op, 0, 2*len(keys))
	for i, k := range keys {
		fence := s.fenceKey(k)
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(fence), "=", snap.fences[i]))
		ops = append(ops, clientv3.OpPut(fence, ""))
		switch {
		case want[i] == nil && snap.current[i] == nil:
		case want[i] == nil:
			ops = append(ops, clientv3.OpDelete(k))
		case snap.current[i] == nil || !bytes.Equal(want[i], snap.current[i]):
			ops = append(ops, clientv3.OpPut(k, string(want[i])))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	// No Else branch: it would send every Get again on each push for the
	// rare conflict, which reads the fences afresh instead.
	resp, err := s.etcd.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, nil, err
	}
	return resp.Succeeded, nil, nil
}

func (s *syncer) countPushed(m *mapping, snap *snapshot, want [][]byte) {
	for i, w := range want {
		switch {
		case w == nil && snap.current[i] == nil, w != nil && snap.current[i] != nil && bytes.Equal(w, snap.current[i]):
			s.stats.unchanged.Add(1)
			s.metrics.pushed(m, outcomeUnchanged, 1)
		case w == nil:
			s.stats.deletes.Add(1)
			s.metrics.pushed(m, outcomeDelete, 1)
		default:
			s.stats.puts.Add(1)
			s.metrics.pushed(m, outcomePut, 1)
		}
	}
}
