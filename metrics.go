package mysqletcd

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The Prometheus metrics, listed in docs/observability.md. Their labels are
// the mapped table ("schema.table") and small fixed sets (outcome, reason,
// kind): never keys or values.
//
// The collectors belong to a registry, not to a Connector: a Connector
// registers them on Config.Metrics, or finds them there when another
// Connector registered them first (prometheus.AlreadyRegisteredError), so
// the Connectors of one process that share a registry add up into the same
// series. Gauges too: the queue depth is the sum over the live Connectors.

const metricsNamespace = "mysqletcd"

// Push outcomes, the outcome label of mysqletcd_pushes_total.
const (
	outcomePut       = "put"       // the key was written
	outcomeDelete    = "delete"    // the key was deleted
	outcomeUnchanged = "unchanged" // the key already held the right value
	outcomeError     = "error"     // an etcd or database call failed; the batch is retried
)

// metrics are the collectors registered on one registry.
type metrics struct {
	captured  *prometheus.CounterVec   // table
	pushes    *prometheus.CounterVec   // table, outcome
	conflicts *prometheus.CounterVec   // table
	retries   *prometheus.CounterVec   // table
	latency   *prometheus.HistogramVec // table
	fallbacks *prometheus.CounterVec   // table, reason
	drift     *prometheus.CounterVec   // table, kind
	broken    *prometheus.CounterVec   // table: mappings that stopped fitting their table
	tooLarge  *prometheus.CounterVec   // table: keys whose value etcd refused for its size
	live      *liveGauges
}

// latencyBuckets span a push on an idle pipeline (about a millisecond) to
// an etcd outage's worth of backoff.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: metricsNamespace, Name: name, Help: help}, labels)
}

// registerMetrics registers the collectors on reg, or takes the ones
// already registered there.
func registerMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		captured:  counterVec("keys_captured_total", "Keys handed to the push pipeline by committed writes.", "table"),
		pushes:    counterVec("pushes_total", "Keys pushed to etcd, by outcome: put, delete, unchanged; error counts the keys of a batch whose etcd or database call failed (the batch is retried).", "table", "outcome"),
		conflicts: counterVec("cas_conflicts_total", "Compare-and-swaps that lost to another push; the batch is retried.", "table"),
		retries:   counterVec("push_retries_total", "Attempts of a batch after its first, after a conflict or a failed call.", "table"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metricsNamespace, Name: "push_latency_seconds",
			Help:    "Time from a commit handing a key over to the completed push of that key; for a key committed again before its push started, from the oldest such commit.",
			Buckets: latencyBuckets,
		}, []string{"table"}),
		fallbacks: counterVec("fallbacks_total", "Table resyncs done instead of pushing the keys a write changed, by reason.", "table", "reason"),
		drift:     counterVec("drift_keys_total", "Keys a reconcile found differing from the database, by kind: missing, stale, orphan.", "table", "kind"),
		broken:    counterVec("mapping_errors_total", "Mappings found, after DDL, not to fit their table any more; their keys are left as they are until DDL makes them fit again.", "table"),
		tooLarge:  counterVec("values_too_large_total", "Keys not pushed because their value is over etcd's request limit; etcd keeps the key's previous value.", "table"),
		live:      newLiveGauges(),
	}
	var errs []error
	m.captured = register(reg, m.captured, &errs)
	m.pushes = register(reg, m.pushes, &errs)
	m.conflicts = register(reg, m.conflicts, &errs)
	m.retries = register(reg, m.retries, &errs)
	m.latency = register(reg, m.latency, &errs)
	m.fallbacks = register(reg, m.fallbacks, &errs)
	m.drift = register(reg, m.drift, &errs)
	m.broken = register(reg, m.broken, &errs)
	m.tooLarge = register(reg, m.tooLarge, &errs)
	m.live = register(reg, m.live, &errs)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: metrics: %w", ErrConfig, err)
	}
	return m, nil
}

// register registers c on reg and returns it, or returns the collector of
// the same kind already registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C, errs *[]error) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	if err != nil {
		*errs = append(*errs, err)
	}
	return c
}

// syncerMetrics are one syncer's children of the collectors, looked up once
// per mapping. A nil *syncerMetrics counts nothing.
type syncerMetrics struct {
	shared *metrics
	// byTable: the children per mapped table ("schema.table"), made on
	// first use (a catalog reload after DDL makes new mappings).
	byTable sync.Map
	// outboxBacklog is what the durable outbox reports (0 until it does).
	outboxBacklog atomic.Int64
}

type mappingMetrics struct {
	table                      string
	captured                   prometheus.Counter
	put, deleted, unchanged    prometheus.Counter
	failed, conflicts, retries prometheus.Counter
	latency                    prometheus.Observer
}

// attach makes the syncer's children, hooks the queue's push latency and
// adds the syncer to the gauges. It runs before the syncer's goroutines.
func (met *metrics) attach(s *syncer) *syncerMetrics {
	if met == nil {
		return nil
	}
	sm := &syncerMetrics{shared: met}
	for _, m := range s.working() {
		sm.of(m)
	}
	s.q.pushed = func(m *mapping, waited time.Duration) {
		if mm := sm.of(m); mm != nil {
			mm.latency.Observe(waited.Seconds())
		}
	}
	met.live.add(s)
	return sm
}

// detach takes a closed syncer out of the gauges and tells the waiters of
// the resyncs it will not run.
func (s *syncer) detach() {
	if s.metrics != nil {
		s.metrics.shared.live.remove(s)
	}
	s.abandonResyncWaiters()
}

// of is the children of m's table, made on first use.
func (sm *syncerMetrics) of(m *mapping) *mappingMetrics {
	if sm == nil {
		return nil
	}
	t := m.table.qualified()
	if mm, ok := sm.byTable.Load(t); ok {
		return mm.(*mappingMetrics)
	}
	met := sm.shared
	mm, _ := sm.byTable.LoadOrStore(t, &mappingMetrics{
		table:     t,
		captured:  met.captured.WithLabelValues(t),
		put:       met.pushes.WithLabelValues(t, outcomePut),
		deleted:   met.pushes.WithLabelValues(t, outcomeDelete),
		unchanged: met.pushes.WithLabelValues(t, outcomeUnchanged),
		failed:    met.pushes.WithLabelValues(t, outcomeError),
		conflicts: met.conflicts.WithLabelValues(t),
		retries:   met.retries.WithLabelValues(t),
		latency:   met.latency.WithLabelValues(t),
	})
	return mm.(*mappingMetrics)
}

// captured counts keys handed to the pipeline.
func (sm *syncerMetrics) captured(items []item) {
	if sm == nil {
		return
	}
	for i := 0; i < len(items); {
		m, n := items[i].m, 0
		for ; i < len(items) && items[i].m == m; i++ {
			n++
		}
		if mm := sm.of(m); mm != nil {
			mm.captured.Add(float64(n))
		}
	}
}

// pushed counts n keys of m that ended a push attempt with outcome.
func (sm *syncerMetrics) pushed(m *mapping, outcome string, n int) {
	mm := sm.of(m)
	if mm == nil {
		return
	}
	c := mm.failed
	switch outcome {
	case outcomePut:
		c = mm.put
	case outcomeDelete:
		c = mm.deleted
	case outcomeUnchanged:
		c = mm.unchanged
	}
	c.Add(float64(n))
}

func (sm *syncerMetrics) conflict(m *mapping) {
	if mm := sm.of(m); mm != nil {
		mm.conflicts.Inc()
	}
}

func (sm *syncerMetrics) retry(m *mapping) {
	if mm := sm.of(m); mm != nil {
		mm.retries.Inc()
	}
}

// drift counts what a reconcile pass found differing.
func (sm *syncerMetrics) drift(m *mapping, rep MappingReport) {
	mm := sm.of(m)
	if mm == nil {
		return
	}
	for kind, n := range map[DriftKind]int64{DriftMissing: rep.Missing, DriftStale: rep.Stale, DriftOrphan: rep.Orphans} {
		if n > 0 {
			sm.shared.drift.WithLabelValues(mm.table, string(kind)).Add(float64(n))
		}
	}
}

// countFallback counts a table resync done instead of pushing keys, in
// Stats and in the metrics.
func (s *syncer) countFallback(m *mapping, reason string) {
	s.stats.fallback(reason)
	if mm := s.metrics.of(m); mm != nil {
		s.metrics.shared.fallbacks.WithLabelValues(mm.table, reason).Inc()
	}
}

// setOutboxBacklog is how the durable outbox reports the rows it holds
// that no push has cleared yet: the mysqletcd_outbox_backlog gauge, which
// reads 0 until durable mode is on.
func (s *syncer) setOutboxBacklog(n int) {
	if s.metrics != nil {
		s.metrics.outboxBacklog.Store(int64(n))
	}
}

// liveGauges reports the gauges of the live syncers of one registry, summed:
// the keys queued or in flight, and the outbox backlog. It reads them at
// scrape time, so the push path pays nothing for them.
type liveGauges struct {
	queued, outbox *prometheus.Desc

	mu      sync.Mutex
	syncers map[*syncer]struct{}
}

func newLiveGauges() *liveGauges {
	return &liveGauges{
		queued:  prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "queue_depth"), "Keys queued or in flight to etcd now.", nil, nil),
		outbox:  prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, "", "outbox_backlog"), "Rows of the durable outbox not yet cleared by a push; 0 unless durable mode is on.", nil, nil),
		syncers: map[*syncer]struct{}{},
	}
}

func (g *liveGauges) add(s *syncer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.syncers[s] = struct{}{}
}

func (g *liveGauges) remove(s *syncer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.syncers, s)
}

// Describe implements prometheus.Collector.
func (g *liveGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.queued
	ch <- g.outbox
}

// Collect implements prometheus.Collector.
func (g *liveGauges) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	var queued, outbox float64
	for s := range g.syncers {
		queued += float64(s.q.len())
		outbox += float64(s.metrics.outboxBacklog.Load())
	}
	g.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(g.queued, prometheus.GaugeValue, queued)
	ch <- prometheus.MustNewConstMetric(g.outbox, prometheus.GaugeValue, outbox)
}

// brokenMapping counts a mapping of table that no longer fits it.
func (sm *syncerMetrics) brokenMapping(table string) {
	if sm != nil {
		sm.shared.broken.WithLabelValues(table).Inc()
	}
}

// valueTooLarge counts a key of m that etcd refused for its size.
func (sm *syncerMetrics) valueTooLarge(m *mapping) {
	if sm != nil {
		sm.shared.tooLarge.WithLabelValues(m.table.qualified()).Inc()
	}
}
