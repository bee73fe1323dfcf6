package mysqletcd

import "sync/atomic"

// Fallback reasons: why a write resynced a whole table instead of pushing
// the keys it changed.
const (
	reasonQueueFull   = "queue-full"   // the push queue was full
	reasonTxTooLarge  = "tx-too-large" // a transaction touched more than MaxTxKeys keys
	reasonUnparsed    = "unparsed"     // the statement could not be parsed
	reasonUnsupported = "unsupported"  // a statement form whose keys are not derived yet
	reasonTableLevel  = "table-level"  // TRUNCATE, LOAD DATA, CALL, DDL
)

// Stats are running totals of a Connector's sync pipeline.
type Stats struct {
	KeysCaptured int64 // keys handed to the pipeline after commit
	Puts         int64 // keys written
	Deletes      int64 // keys deleted
	Unchanged    int64 // keys pushed whose value was already right
	Conflicts    int64 // compare-and-swaps that lost to another push and retried
	Errors       int64 // failed etcd or database calls (each retried)
	TooLarge     int64 // keys not pushed: etcd refused the value as too large (ErrValueTooLarge)
	Resyncs      int64 // completed table resyncs
	Reconciles   int64 // completed Reconcile runs
	// FencesCollected counts fences of absent keys removed by reconciles.
	FencesCollected int64
	// AntiEntropyRuns counts the periodic reconciles this process ran as
	// the elected leader, and DriftFixed the differences they found.
	AntiEntropyRuns int64
	DriftFixed      int64
	// MappingErrors counts mappings found not to fit their table after DDL.
	MappingErrors int64
	// Swept counts outbox rows this process's sweeper pushed: keys that a
	// process (maybe this one) committed and did not push in time.
	Swept int64
	// AntiEntropyLeader says this process leads anti-entropy now.
	AntiEntropyLeader bool
	// Fallbacks counts table resyncs by reason: "queue-full",
	// "tx-too-large", "unparsed", "unsupported", "table-level".
	Fallbacks map[string]int64
	Queued    int // keys queued or in flight now
}

func (s *syncer) snapshotStats() Stats {
	st := Stats{
		KeysCaptured:      s.stats.captured.Load(),
		Puts:              s.stats.puts.Load(),
		Deletes:           s.stats.deletes.Load(),
		Unchanged:         s.stats.unchanged.Load(),
		Conflicts:         s.stats.conflicts.Load(),
		Errors:            s.stats.errors.Load(),
		TooLarge:          s.stats.tooLarge.Load(),
		Resyncs:           s.stats.resyncs.Load(),
		Reconciles:        s.stats.reconciles.Load(),
		FencesCollected:   s.stats.fencesCollected.Load(),
		AntiEntropyRuns:   s.stats.antiEntropyRuns.Load(),
		DriftFixed:        s.stats.driftFixed.Load(),
		AntiEntropyLeader: s.leading.Load(),
		Swept:             s.stats.swept.Load(),
		MappingErrors:     s.stats.mappingErrors.Load(),
		Fallbacks:         map[string]int64{},
		Queued:            s.q.len(),
	}
	s.stats.fallbacks.Range(func(k, v any) bool {
		st.Fallbacks[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return st
}
