package rig

import (
	"sync"

	"github.com/mysqletcd/mysqletcd"
)

// A Gate holds the driver's pushes while closed, through the PushTrace
// hook that runs after a push has read its fences: the keys committed
// meanwhile pile up in the queue, and opening the gate measures how fast
// the syncer drains them, apart from the writes.
type Gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
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
	return &mysqletcd.PushTrace{FencesRead: func([]string) { g.wait() }}
}
