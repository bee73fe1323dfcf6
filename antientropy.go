package mysqletcd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// Anti-entropy: with Config.ReconcileEvery set, every process using the
// driver campaigns in one etcd election per fence prefix; the leader
// reconciles every mapping each period. The leader's lease lapses when it
// dies, and another process wins the election. The time of the last run is
// kept in etcd, so a new leader waits out the period instead of starting
// over; a reconcile is safe beside live writers and beside another
// reconcile, so a short overlap while leadership changes does no harm.

// electionPrefix and lastRunKey are per set of mappings: processes with
// other mappings under the same fence prefix elect their own leader.
func (s *syncer) electionPrefix() string {
	return s.cfg.FencePrefix + "/reconciler/" + fleetID(s.cfg) + "/leader"
}
func (s *syncer) lastRunKey() string {
	return s.cfg.FencePrefix + "/reconciler/" + fleetID(s.cfg) + "/last-run"
}

// fleetID names a set of mappings: processes with the same one share an
// anti-entropy leader.
func fleetID(cfg Config) string {
	lines := make([]string, len(cfg.Tables))
	for i, m := range cfg.Tables {
		lines[i] = m.Table + "\x00" + m.Key
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:6])
}

// antiEntropy campaigns for leadership until the syncer closes, and
// reconciles periodically while it leads.
func (s *syncer) antiEntropy() {
	if !s.awaitEtcd(s.ctx) {
		return
	}
	id := leaderID()
	for attempt := 1; s.ctx.Err() == nil; attempt++ {
		err := s.leadOnce(id)
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			s.stats.errors.Add(1)
			s.report(fmt.Errorf("anti-entropy election: %w", err))
		}
		if sleepCtx(s.ctx, backoff(attempt, errorBackoff)) != nil {
			return
		}
	}
}

// leadOnce takes part in one term: it opens a lease, waits to be elected,
// and reconciles until the lease is lost or the syncer closes.
func (s *syncer) leadOnce(id string) error {
	sess, err := concurrency.NewSession(s.etcd, concurrency.WithTTL(int(s.cfg.ElectionTTL/time.Second)), concurrency.WithContext(s.ctx))
	if err != nil {
		return err
	}
	defer sess.Close() // revokes the lease: the next process is elected at once
	el := concurrency.NewElection(sess, s.electionPrefix())
	if err := el.Campaign(s.ctx, id); err != nil {
		return err
	}
	s.leading.Store(true)
	defer s.leading.Store(false)
	s.cfg.Logger.Info("mysqletcd: leading anti-entropy", "id", id, "every", s.cfg.ReconcileEvery)
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done(): // lease lost: stop a reconcile in progress
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		if err := sleepCtx(ctx, s.untilNextRun(ctx)); err != nil {
			if s.ctx.Err() == nil {
				return fmt.Errorf("lost the leader lease")
			}
			return nil
		}
		s.runAntiEntropy(ctx)
		if ctx.Err() != nil {
			if s.ctx.Err() == nil {
				return fmt.Errorf("lost the leader lease")
			}
			return nil
		}
	}
}

// untilNextRun is how long the leader waits before the next run: the period
// since the last run any leader recorded (none: at once).
func (s *syncer) untilNextRun(ctx context.Context) time.Duration {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	resp, err := s.etcd.Get(cctx, s.lastRunKey())
	if err != nil || len(resp.Kvs) == 0 {
		return 0
	}
	nanos, err := strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
	if err != nil {
		return 0
	}
	return time.Until(time.Unix(0, nanos).Add(s.cfg.ReconcileEvery))
}

// runAntiEntropy reconciles every mapping once and records the time.
func (s *syncer) runAntiEntropy(ctx context.Context) {
	rep, err := s.reconcile(ctx, ReconcileOptions{RowsPerSecond: s.cfg.ReconcileRate}, false)
	if err != nil {
		if ctx.Err() == nil {
			s.stats.errors.Add(1)
			s.report(fmt.Errorf("anti-entropy: %w", err))
		}
		// Try again after a period anyway: a failing run must not spin.
	} else {
		s.stats.antiEntropyRuns.Add(1)
		s.stats.driftFixed.Add(rep.Drift())
		s.cfg.Logger.Info("mysqletcd: anti-entropy run", "drift", rep.Drift(), "took", rep.Elapsed)
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.Etcd.RequestTimeout)
	defer cancel()
	if _, err := s.etcd.Put(cctx, s.lastRunKey(), strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil && ctx.Err() == nil {
		s.report(fmt.Errorf("anti-entropy: record the run: %w", err))
	}
}

// leaderID names this process in the election: host and pid.
func leaderID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// AntiEntropyLeader returns the id ("host/pid") of the process leading
// anti-entropy for cfg's cluster and fence prefix; empty when none leads.
func AntiEntropyLeader(ctx context.Context, cli *clientv3.Client, cfg Config) (string, error) {
	s := &syncer{cfg: cfg.withDefaults()}
	resp, err := cli.Get(ctx, s.electionPrefix()+"/", clientv3.WithFirstCreate()...)
	if err != nil || len(resp.Kvs) == 0 {
		return "", err
	}
	return string(resp.Kvs[0].Value), nil
}
