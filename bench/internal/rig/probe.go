package rig

import (
	"bytes"
	"context"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A Probe times commit → watch event. Each write sets a row's val to a
// unique token; the writer records when its commit returned, a Watch
// records when an event carrying the token arrived.
type Probe struct {
	mu      sync.Mutex
	commits map[string]time.Time
}

// NewProbe returns an empty probe.
func NewProbe() *Probe { return &Probe{commits: map[string]time.Time{}} }

// Committed records that the write carrying token returned from commit at.
func (p *Probe) Committed(token string, at time.Time) {
	p.mu.Lock()
	p.commits[token] = at
	p.mu.Unlock()
}

// Len is the number of commits recorded.
func (p *Probe) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.commits)
}

// Watch records the first arrival of each token under a prefix.
type Watch struct {
	mu       sync.Mutex
	arrivals map[string]time.Time
	events   int
	cancel   context.CancelFunc
	done     chan struct{}
}

// WatchPrefix starts watching prefix from the current revision on.
func WatchPrefix(ctx context.Context, cli *clientv3.Client, prefix string) (*Watch, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &Watch{arrivals: map[string]time.Time{}, cancel: cancel, done: make(chan struct{})}
	// The watch starts after this revision, so it is in place before any
	// write the caller makes next.
	rev, err := cli.Get(ctx, prefix, clientv3.WithCountOnly())
	if err != nil {
		cancel()
		return nil, err
	}
	ch := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev.Header.Revision+1))
	go func() {
		defer close(w.done)
		for resp := range ch {
			now := time.Now()
			w.mu.Lock()
			for _, ev := range resp.Events {
				w.events++
				if ev.Type != mvccpb.PUT {
					continue
				}
				if tok := TokenOf(ev.Kv.Value); tok != "" {
					if _, ok := w.arrivals[tok]; !ok {
						w.arrivals[tok] = now
					}
				}
			}
			w.mu.Unlock()
		}
	}()
	return w, nil
}

// Stop ends the watch.
func (w *Watch) Stop() {
	w.cancel()
	<-w.done
}

// Events is the number of events seen so far.
func (w *Watch) Events() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.events
}

// Seen reports whether token has arrived.
func (w *Watch) Seen(token string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.arrivals[token]
	return ok
}

// TokenOf extracts the val field of an ItemsMapping value.
func TokenOf(v []byte) string {
	i := bytes.Index(v, []byte(`"val":"`))
	if i < 0 {
		return ""
	}
	v = v[i+7:]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// Latencies is commit → event of every commit in p that arrived on w.
// Missing counts commits whose token never arrived (a later write to the
// same key coalesced it away, or it is late); early counts events that
// arrived before the commit call returned (latency counted as 0).
func Latencies(p *Probe, w *Watch) (lat []time.Duration, missing, early int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	for tok, at := range p.commits {
		got, ok := w.arrivals[tok]
		if !ok {
			missing++
			continue
		}
		d := got.Sub(at)
		if d < 0 {
			early++
			d = 0
		}
		lat = append(lat, d)
	}
	return lat, missing, early
}
