package mysqletcd

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// PushWaiter lets a caller read its own writes from etcd: it collects the
// keys of the transactions committed under the context WithPushWaiter gave,
// and Wait returns once each of them is in etcd. It is safe for concurrent
// use.
//
// A transaction's keys join the waiter when it commits, if the waiter's
// context was passed to db.BeginTx, to the statement that committed it
// (ExecContext of an autocommit write, or of a text COMMIT), or to a
// statement inside it that wrote a mapped table. A key joins as a promise:
// a push of that key that starts after the commit (it reads the row after
// the commit) completes. A key already being pushed when the commit hands it
// over is pushed once more after that push, and the waiter waits for the
// later one. Where the driver resyncs a table instead of pushing keys (see
// Stats.Fallbacks), the waiter waits for a resync that starts after the
// commit, and for the pushes of the keys it found different.
type PushWaiter struct {
	parent *PushWaiter // an enclosing waiter, which waits for these keys too

	mu      sync.Mutex
	pending int           // keys and resyncs not yet done
	idle    chan struct{} // closed when pending drops to 0; nil when nobody waits
	err     error         // set when a connector closed before pushing a key
}

type pushWaiterKey struct{}

// WithPushWaiter returns a context that carries a new PushWaiter, and the
// waiter. Pass the context to the calls that write (db.BeginTx,
// db.ExecContext, tx.ExecContext, ...), then call Wait. A waiter made
// under another one passes its keys on to it: the outer Wait covers them.
//
// It costs nothing to the pipeline while no context carries a waiter.
func WithPushWaiter(ctx context.Context) (context.Context, *PushWaiter) {
	w := &PushWaiter{parent: pushWaiterOf(ctx)}
	return context.WithValue(ctx, pushWaiterKey{}, w), w
}

func pushWaiterOf(ctx context.Context) *PushWaiter {
	w, _ := ctx.Value(pushWaiterKey{}).(*PushWaiter)
	return w
}

// Wait returns nil once every key committed so far under the waiter's
// context has been pushed to etcd by a push that started after its commit,
// so that an etcd read made after Wait sees that commit's values or later
// ones. It returns at once when no key is pending.
//
// When ctx ends first, Wait returns ctx.Err(): that says only that the wait
// ended. It never means that a transaction failed: the commits stand and
// their keys are still pushed. When a Connector is closed before it pushed
// one of the keys (its drain-timeout passed), Wait returns an error that
// wraps ErrClosed.
func (w *PushWaiter) Wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		if w.pending == 0 {
			err := w.err
			w.mu.Unlock()
			return err
		}
		if w.idle == nil {
			w.idle = make(chan struct{})
		}
		idle := w.idle
		w.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// errNotPushed is what a waiter learns of a key a closing connector did not
// push.
var errNotPushed = fmt.Errorf("%w before it pushed every key waited for; a resync of their tables brings etcd in line", ErrClosed)

// hold adds one pending key or resync to the waiter and those around it.
func (w *PushWaiter) hold() {
	for ; w != nil; w = w.parent {
		w.mu.Lock()
		w.pending++
		w.mu.Unlock()
	}
}

// release ends one pending key or resync; pushed is false when it ended
// without a push.
func (w *PushWaiter) release(pushed bool) {
	for ; w != nil; w = w.parent {
		w.mu.Lock()
		w.pending--
		if !pushed && w.err == nil {
			w.err = errNotPushed
		}
		if w.pending == 0 && w.idle != nil {
			close(w.idle)
			w.idle = nil
		}
		w.mu.Unlock()
	}
}

// holdFor adds ws to a list of waiters, holding each once more. A waiter
// already last in the list is not added again: one push serves both.
func holdFor(list, ws []*PushWaiter) []*PushWaiter {
	for _, w := range ws {
		if n := len(list); n > 0 && list[n-1] == w {
			continue
		}
		w.hold()
		list = append(list, w)
	}
	return list
}

func releaseAll(ws []*PushWaiter, pushed bool) {
	for _, w := range ws {
		w.release(pushed)
	}
}

// noteWaiter notes the push waiter of the call the session serves: every
// intercepted call sets it from its context.
func (s *session) noteWaiter(ctx context.Context) { s.waiter = pushWaiterOf(ctx) }

// enqueueCapture hands a committed capture to the syncer for the waiters of
// the call that committed it and of its transaction.
func (s *session) enqueueCapture(c *capture, txWaiters ...*PushWaiter) {
	ws := txWaiters
	if s.waiter != nil && !slices.Contains(ws, s.waiter) {
		ws = append(ws, s.waiter)
	}
	s.st.sync.enqueueCapture(c, ws...)
}

// join adds the waiter of a call that wrote in the transaction.
func (tx *txCapture) join(w *PushWaiter) {
	if w != nil && !slices.Contains(tx.waiters, w) {
		tx.waiters = append(tx.waiters, w)
	}
}

// resyncWaits are the push waiters of table resyncs: requested ones wait for
// the next run of their mapping, running ones for the run in progress. The
// syncer's resyncMu guards them.
type resyncWaits struct {
	requested map[*mapping][]*PushWaiter
	running   map[*mapping][]*PushWaiter
}

// requestLocked holds ws for the next resync of m.
func (r *resyncWaits) requestLocked(m *mapping, ws []*PushWaiter) {
	if len(ws) == 0 {
		return
	}
	if r.requested == nil {
		r.requested = map[*mapping][]*PushWaiter{}
	}
	r.requested[m] = holdFor(r.requested[m], ws)
}

// startLocked moves m's requested waiters to its run that starts now.
func (r *resyncWaits) startLocked(m *mapping) {
	if ws := r.requested[m]; len(ws) > 0 {
		delete(r.requested, m)
		if r.running == nil {
			r.running = map[*mapping][]*PushWaiter{}
		}
		r.running[m] = ws
	}
}

// resyncWaiters are the waiters of m's running resync: the keys the resync
// queues are held for them too.
func (s *syncer) resyncWaiters(m *mapping) []*PushWaiter {
	s.resyncMu.Lock()
	defer s.resyncMu.Unlock()
	return s.waits.running[m]
}

// resynced releases the waiters of m's run, which completed.
func (s *syncer) resynced(m *mapping) {
	s.resyncMu.Lock()
	ws := s.waits.running[m]
	delete(s.waits.running, m)
	s.resyncMu.Unlock()
	releaseAll(ws, true)
}

// abandonResyncWaiters tells the waiters of resyncs that will not run now
// that the syncer closed.
func (s *syncer) abandonResyncWaiters() {
	s.resyncMu.Lock()
	r := s.waits
	s.waits = resyncWaits{}
	s.resyncMu.Unlock()
	for _, ws := range r.requested {
		releaseAll(ws, false)
	}
	for _, ws := range r.running {
		releaseAll(ws, false)
	}
}
