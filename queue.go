package mysqletcd

import (
	"context"
	"slices"
	"sync"
	"time"
)

// queue holds the keys waiting to be pushed. It coalesces: a key is at most
// once in the queue and at most once in flight; a key added while in flight
// is pushed once more after. It is bounded: add refuses keys beyond its
// size, and the caller resyncs their mappings instead. Safe for concurrent use.
type queue struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	size    int
	entries map[entryKey]*entry
	ready   map[*mapping][]*entry // per mapping, in arrival order
	order   []*mapping            // mappings with ready entries, round robin
	closed  bool
	// pushed, when set, is told how long each key pushed waited since the
	// oldest hand-off its push covers (the push latency metric).
	pushed func(m *mapping, waited time.Duration)
}

type entryKey struct {
	m   *mapping
	key string
}

type entry struct {
	it       item
	inflight bool
	again    bool // added again while in flight
	// since is when the oldest commit that no started push covers handed
	// the key over (zero when none did: a reconcile queued it); flightSince
	// is the since the push in flight covers.
	since, flightSince time.Time
	// waiting are the push waiters of the next push, flying those of the
	// push in flight (see pushwait.go); nil when nobody waits.
	waiting, flying []*PushWaiter
}

func newQueue(size int) *queue {
	return &queue{
		changed: make(chan struct{}),
		size:    size,
		entries: map[entryKey]*entry{},
		ready:   map[*mapping][]*entry{},
	}
}

// add queues committed items and returns the mappings of the items that did
// not fit. Each queued key is held for ws until a push that starts after
// now completes.
func (q *queue) add(items []item, ws ...*PushWaiter) (overflow []*mapping) {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		if !q.addLocked(it, ws, now) {
			overflow = appendMapping(overflow, it.m)
		}
	}
	q.signalLocked()
	return overflow
}

// addWait queues items, waiting for room when the queue is full. They are
// no commits: the push latency metric leaves them out.
func (q *queue) addWait(ctx context.Context, items []item, ws ...*PushWaiter) error {
	for len(items) > 0 {
		q.mu.Lock()
		for len(items) > 0 && q.addLocked(items[0], ws, time.Time{}) {
			items = items[1:]
		}
		q.signalLocked()
		ch := q.changed
		q.mu.Unlock()
		if len(items) == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (q *queue) addLocked(it item, ws []*PushWaiter, stamp time.Time) bool {
	k := entryKey{it.m, it.key}
	e, ok := q.entries[k]
	switch {
	case ok && e.inflight:
		e.again = true
		e.it = it
	case !ok && len(q.entries) >= q.size:
		return false
	case !ok:
		e = &entry{it: it}
		q.entries[k] = e
		q.pushReadyLocked(e)
	}
	if e.since.IsZero() {
		e.since = stamp
	}
	e.waiting = holdFor(e.waiting, ws)
	return true
}

func (q *queue) pushReadyLocked(e *entry) {
	m := e.it.m
	if len(q.ready[m]) == 0 {
		q.order = append(q.order, m)
	}
	q.ready[m] = append(q.ready[m], e)
}

// take waits for ready keys and returns up to max of them, all of one
// mapping, marked in flight. It returns nil when ctx ends or the queue closes.
func (q *queue) take(ctx context.Context, max int) (*mapping, []item) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, nil
		}
		if len(q.order) > 0 {
			m := q.order[0]
			q.order = q.order[1:]
			ready := q.ready[m]
			n := min(max, len(ready))
			batch := make([]item, n)
			for i, e := range ready[:n] {
				e.inflight = true
				e.flightSince, e.since = e.since, time.Time{}
				e.flying, e.waiting = e.waiting, nil
				batch[i] = e.it
			}
			if rest := ready[n:]; len(rest) > 0 {
				q.ready[m] = rest
				q.order = append(q.order, m)
			} else {
				delete(q.ready, m)
			}
			q.mu.Unlock()
			return m, batch
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// done ends the flight of a batch; keys added meanwhile are queued again.
// pushed says the push completed: its waiters are released. Otherwise (the
// syncer is closing) they learn that their keys were not pushed.
func (q *queue) done(m *mapping, batch []item, pushed bool) {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range batch {
		k := entryKey{m, it.key}
		e, ok := q.entries[k]
		if !ok {
			continue
		}
		if pushed && q.pushed != nil && !e.flightSince.IsZero() {
			q.pushed(m, now.Sub(e.flightSince))
		}
		releaseAll(e.flying, pushed)
		e.flying, e.flightSince = nil, time.Time{}
		if q.closed {
			releaseAll(e.waiting, false) // no push will take it again
			e.waiting = nil
		}
		if e.again {
			e.again, e.inflight = false, false
			q.pushReadyLocked(e)
			continue
		}
		delete(q.entries, k)
	}
	q.signalLocked()
}

// len is the number of keys queued or in flight.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.entries)
}

// wait returns a channel closed at the next change.
func (q *queue) wait() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed
}

// close stops take. Waiters of keys that no push will take again learn
// that they were not pushed.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, e := range q.entries {
		releaseAll(e.waiting, false)
		e.waiting = nil
	}
	q.signalLocked()
}

// flyingWaiters are the push waiters of a batch in flight, each once.
func (q *queue) flyingWaiters(m *mapping, batch []item) []*PushWaiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ws []*PushWaiter
	for _, it := range batch {
		if e, ok := q.entries[entryKey{m, it.key}]; ok {
			for _, w := range e.flying {
				if !slices.Contains(ws, w) {
					ws = append(ws, w)
				}
			}
		}
	}
	return ws
}

func (q *queue) signalLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func appendMapping(list []*mapping, m *mapping) []*mapping {
	if slices.Contains(list, m) {
		return list
	}
	return append(list, m)
}
