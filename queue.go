package mysqletcd

import (
	"context"
	"slices"
	"sync"
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
}

type entryKey struct {
	m   *mapping
	key string
}

type entry struct {
	it       item
	inflight bool
	again    bool // added again while in flight
}

func newQueue(size int) *queue {
	return &queue{
		changed: make(chan struct{}),
		size:    size,
		entries: map[entryKey]*entry{},
		ready:   map[*mapping][]*entry{},
	}
}

// add queues items and returns the mappings of the items that did not fit.
func (q *queue) add(items []item) (overflow []*mapping) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range items {
		if !q.addLocked(it) {
			overflow = appendMapping(overflow, it.m)
		}
	}
	q.signalLocked()
	return overflow
}

// addWait queues items, waiting for room when the queue is full.
func (q *queue) addWait(ctx context.Context, items []item) error {
	for len(items) > 0 {
		q.mu.Lock()
		for len(items) > 0 && q.addLocked(items[0]) {
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

func (q *queue) addLocked(it item) bool {
	k := entryKey{it.m, it.key}
	if e, ok := q.entries[k]; ok {
		if e.inflight {
			e.again = true
			e.it = it
		}
		return true
	}
	if len(q.entries) >= q.size {
		return false
	}
	e := &entry{it: it}
	q.entries[k] = e
	q.pushReadyLocked(e)
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
func (q *queue) done(m *mapping, batch []item) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, it := range batch {
		k := entryKey{m, it.key}
		e, ok := q.entries[k]
		if !ok {
			continue
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

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.signalLocked()
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
