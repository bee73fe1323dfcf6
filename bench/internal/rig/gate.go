package rig

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/mysqletcd/mysqletcd"
)

// A Gate holds the driver's pushes while closed, through the PushTrace
// hook that runs after a push has read its fences: the keys committed
// meanwhile pile up in the queue, and opening the gate measures how fast
// the syncer drains them, apart from the writes.
//
// The same hooks time the two later steps of each push: the database read
// (fences read → rows read) and the compare-and-swap (rows read → swapped).
type Gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open

	steps                              sync.Map // *string (&keys[0] of a push in flight) → time.Time of its last step
	swaps, swapKeys, dbNanos, casNanos atomic.Int64
}

// Steps are running totals of the pushes' steps.
type Steps struct {
	Swaps, Keys  int64         // compare-and-swaps, and the keys in them
	DBRead, Swap time.Duration // total time in the database read and the CAS
}

// Sub is s − o.
func (s Steps) Sub(o Steps) Steps {
	return Steps{s.Swaps - o.Swaps, s.Keys - o.Keys, s.DBRead - o.DBRead, s.Swap - o.Swap}
}

// Steps returns the running totals.
func (g *Gate) Steps() Steps {
	return Steps{g.swaps.Load(), g.swapKeys.Load(), time.Duration(g.dbNanos.Load()), time.Duration(g.casNanos.Load())}
}

// NewGate returns an open gate.
func NewGate() *Gate {
	g := &Gate{open: make(chan struct{})}
	close(g.open)
	return g
}

// Close makes pushes wait.
func (g *Gate) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
}

// Open lets pushes go.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *Gate) wait() {
	g.mu.Lock()
	ch := g.open
	g.mu.Unlock()
	<-ch
}

// Trace is the hook to put in Config.Trace.
func (g *Gate) Trace() *mysqletcd.PushTrace {
	return &mysqletcd.PushTrace{
		FencesRead: func(keys []string) {
			g.wait()
			g.steps.Store(&keys[0], time.Now())
		},
		RowsRead: func(keys []string) {
			now := time.Now()
			if t, ok := g.steps.Swap(&keys[0], now); ok {
				g.dbNanos.Add(int64(now.Sub(t.(time.Time))))
			}
		},
		Swapped: func(keys []string, _ bool) {
			if t, ok := g.steps.LoadAndDelete(&keys[0]); ok {
				g.casNanos.Add(int64(time.Since(t.(time.Time))))
			}
			g.swaps.Add(1)
			g.swapKeys.Add(int64(len(keys)))
		},
	}
}
