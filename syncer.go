package mysqletcd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// syncer owns the push pipeline of one Connector: the queue, the workers
// that push batches through the fence protocol, and the table resyncs.
// It is safe for concurrent use; close stops every goroutine it started.
type syncer struct {
	cfg  Config
	etcd *clientv3.Client
	db   *sql.DB // not intercepted: the fresh re-reads
	// releaseEtcd gives the client back to the process's shared ones.
	releaseEtcd func() error
	// etcdReady is closed once etcd and releaseEtcd are set: at once, or
	// when connectEtcd has made the client (etcdlater.go).
	etcdReady chan struct{}
	// maps holds the mappings that work now, indexed like Config.Tables
	// (nil where one does not); a catalog reload replaces it.
	maps atomic.Pointer[[]*mapping]
	// reloadSchema reads the schema again (set by start): a reconcile
	// first catches up with DDL made behind the driver's back.
	reloadSchema func(context.Context)
	missing      atomic.Pointer[[]string] // tables of mappings that wait for them
	q            *queue
	stats        counters
	metrics      *syncerMetrics

	ctx    context.Context // the syncer's lifetime; cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	resyncMu   sync.Mutex
	resyncWant []*mapping
	resyncBusy bool
	resyncKick chan struct{}
	waits      resyncWaits // of requested and running resyncs

	leading atomic.Bool // this process leads anti-entropy

	// Durable mode: the quoted outbox table ("" when off), and the ids of
	// outbox rows pushes have satisfied, for the deleter.
	outbox     string
	outboxDone chan []int64
}

// newSyncer starts the pipeline. outbox is the quoted outbox table in
// durable mode, "" otherwise; reloadSchema reads the schema again.
func newSyncer(cfg Config, etcd *clientv3.Client, releaseEtcd func() error, db *sql.DB, mappings []*mapping, outbox string, reloadSchema func(context.Context), met *metrics) *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	s := &syncer{
		cfg: cfg, etcd: etcd, releaseEtcd: releaseEtcd, db: db,
		etcdReady:    readyChannel(),
		q:            newQueue(cfg.QueueSize),
		ctx:          ctx,
		cancel:       cancel,
		resyncKick:   make(chan struct{}, 1),
		outbox:       outbox,
		outboxDone:   make(chan []int64, 64),
		reloadSchema: reloadSchema,
	}
	s.maps.Store(&mappings)
	s.missing.Store(&[]string{})
	s.metrics = met.attach(s)
	if etcd == nil {
		s.etcdReady = make(chan struct{})
		s.wg.Go(s.connectEtcd)
	}
	for range cfg.Workers {
		s.wg.Go(s.work)
	}
	s.wg.Go(s.resyncLoop)
	if cfg.ReconcileEvery > 0 {
		s.wg.Go(s.antiEntropy)
	}
	if outbox != "" {
		s.wg.Go(s.outboxDeleter)
		s.wg.Go(s.outboxSweeper)
	}
	return s
}

// work pushes batches until the syncer closes.
func (s *syncer) work() {
	if !s.awaitEtcd(s.ctx) {
		return
	}
	for {
		m, batch := s.q.take(s.ctx, s.cfg.BatchSize)
		if m == nil {
			return
		}
		var err error
		if pm := s.currentOf(m); pm != nil {
			var others []item
			others, err = s.push(s.ctx, pm, batch)
			if err == nil && len(others) > 0 {
				s.enqueue(others, s.q.flyingWaiters(m, batch)...) // before done: the syncer must not look idle in between
			}
		}
		s.q.done(m, batch, err == nil)
	}
}

// enqueue hands committed keys to the pipeline, for push waiters ws. Keys
// that do not fit in the queue resync their mapping instead: nothing is
// dropped.
func (s *syncer) enqueue(items []item, ws ...*PushWaiter) {
	s.stats.captured.Add(int64(len(items)))
	s.metrics.captured(items)
	for _, m := range s.q.add(items, ws...) {
		s.countFallback(m, reasonQueueFull)
		s.requestResync(m, ws...)
	}
}

// requestResync schedules a resync of the mapping after what is running,
// for push waiters ws.
func (s *syncer) requestResync(m *mapping, ws ...*PushWaiter) {
	s.resyncMu.Lock()
	s.resyncWant = appendMapping(s.resyncWant, m)
	s.waits.requestLocked(m, ws)
	s.resyncMu.Unlock()
	select {
	case s.resyncKick <- struct{}{}:
	default:
	}
}

func (s *syncer) resyncLoop() {
	if !s.awaitEtcd(s.ctx) {
		return
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.resyncKick:
		}
		for {
			s.resyncMu.Lock()
			if len(s.resyncWant) == 0 {
				s.resyncBusy = false
				s.resyncMu.Unlock()
				break
			}
			m := s.resyncWant[0]
			s.resyncWant = s.resyncWant[1:]
			s.resyncBusy = true
			s.waits.startLocked(m)
			s.resyncMu.Unlock()
			s.runResync(m)
		}
	}
}

// runResync resyncs a mapping, trying again with backoff until it works or
// the syncer closes.
func (s *syncer) runResync(m *mapping) {
	var outboxIDs []int64 // durable mode: the resync rows this resync satisfies
	for attempt := 1; ; attempt++ {
		cur := s.currentOf(m)
		if cur == nil {
			s.resynced(m) // it no longer fits its table: reported by the reload
			return
		}
		ids, err := s.outboxIDs(s.ctx, cur, []string{""})
		if err == nil {
			outboxIDs = append(outboxIDs, ids...)
			err = s.resyncDurably(s.ctx, cur, len(outboxIDs) > 0, s.resyncWaiters(m)...)
		}
		if err == nil {
			s.pushedOutbox(outboxIDs)
			s.stats.resyncs.Add(1)
			s.resynced(m)
			return
		}
		if s.ctx.Err() != nil {
			return
		}
		s.stats.errors.Add(1)
		s.report(fmt.Errorf("resync %s: %w", m, err))
		if sleepCtx(s.ctx, backoff(attempt, errorBackoff)) != nil {
			return
		}
	}
}

// idle reports whether nothing is queued, in flight or being resynced.
func (s *syncer) idle() bool {
	s.resyncMu.Lock()
	busy := s.resyncBusy || len(s.resyncWant) > 0
	s.resyncMu.Unlock()
	return !busy && s.q.len() == 0
}

// flush waits until the syncer is idle or ctx ends.
func (s *syncer) flush(ctx context.Context) error {
	for {
		ch := s.q.wait()
		if s.idle() {
			return nil
		}
		select {
		case <-ch:
		case <-time.After(5 * time.Millisecond): // resync state has no channel
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close drains the queue (bounded by DrainTimeout), then stops the workers
// and releases the etcd client and the connection pool.
func (s *syncer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	err := s.flush(ctx)
	cancel()
	if err != nil {
		n := s.q.len()
		err = fmt.Errorf("mysqletcd: %d keys not pushed within drain-timeout %s; a resync of their tables brings etcd back in line", n, s.cfg.DrainTimeout)
		s.report(err)
	}
	s.cancel()
	s.q.close()
	s.wg.Wait()
	s.detach()
	var released error
	if s.releaseEtcd != nil { // nil: it never connected
		released = s.releaseEtcd()
	}
	return errors.Join(err, released, s.db.Close())
}

// report logs a sync error and hands it to Config.OnError.
func (s *syncer) report(err error) {
	s.cfg.Logger.Warn("mysqletcd: sync error", "err", err)
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

type backoffKind struct{ base, max time.Duration }

var (
	conflictBackoff = backoffKind{time.Millisecond, 200 * time.Millisecond}
	errorBackoff    = backoffKind{50 * time.Millisecond, 5 * time.Second}
)

// backoff is exponential with full jitter.
func backoff(attempt int, k backoffKind) time.Duration {
	d := k.base << min(attempt, 16)
	if d > k.max || d <= 0 {
		d = k.max
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// counters are the syncer's running totals; Stats reads them.
type counters struct {
	captured, puts, deletes, unchanged, conflicts, errors, resyncs, reconciles, fencesCollected, antiEntropyRuns, driftFixed, swept, mappingErrors atomic.Int64
	tooLarge                                                                                                                                       atomic.Int64
	fallbacks                                                                                                                                      sync.Map // reason -> *atomic.Int64
}

func (c *counters) fallback(reason string) {
	v, _ := c.fallbacks.LoadOrStore(reason, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}
