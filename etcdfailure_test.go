package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// loadSchema is the table of the failure tests. Each writer owns a range
// of ids that ends below a row nobody writes (its sentinel), so that the
// range locks of one writer never reach another's rows: with no deadlocks
// and no duplicate keys, no statement of the load has a reason to fail, and
// any error it sees is one the driver caused.
const loadSchema = `CREATE TABLE load_items (
	id INT NOT NULL PRIMARY KEY,
	grp INT NOT NULL,
	val VARCHAR(64) NOT NULL,
	hidden TINYINT NOT NULL DEFAULT 0
) ENGINE=InnoDB`

func loadMapping() Mapping {
	return Mapping{Table: "load_items", Key: "{p}/load/{id}", Value: JSONValue, Where: "hidden = 0"}
}

const (
	rangeSize = 1000 // ids per writer
	rangeUsed = 100  // ids a writer writes; the one after is its sentinel
)

// writeLoad is a steady stream of commits from several goroutines through
// driver handles. It records each commit's latency under the phase it
// started in, and every error.
type writeLoad struct {
	t       *testing.T
	stop    chan struct{}
	wg      sync.WaitGroup
	commits atomic.Int64
	phase   atomic.Value // string

	mu   sync.Mutex
	errs []error
	lat  map[string][]time.Duration
}

// seedItems writes every writer's sentinel through db.
func seedItems(t *testing.T, db *sql.DB, writers int) {
	t.Helper()
	for w := range writers {
		if _, err := db.Exec("INSERT INTO load_items (id, grp, val) VALUES (?, 0, 'sentinel')", (w+1)*rangeSize+rangeUsed); err != nil {
			t.Fatal(err)
		}
	}
}

// startLoad starts writers goroutines, writer w on dbs[w%len(dbs)], each
// committing one write and then pausing for pause.
func startLoad(t *testing.T, dbs []*sql.DB, writers int, pause time.Duration) *writeLoad {
	l := &writeLoad{t: t, stop: make(chan struct{}), lat: map[string][]time.Duration{}}
	l.phase.Store("before")
	for w := range writers {
		l.wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			db := dbs[w%len(dbs)]
			base := (w + 1) * rangeSize
			for {
				select {
				case <-l.stop:
					return
				case <-time.After(pause):
				}
				phase := l.phase.Load().(string)
				start := time.Now()
				err := writeItem(context.Background(), db, r, base)
				took := time.Since(start)
				l.mu.Lock()
				l.lat[phase] = append(l.lat[phase], took)
				if err != nil {
					l.errs = append(l.errs, err)
				} else {
					l.commits.Add(1)
				}
				l.mu.Unlock()
			}
		})
	}
	return l
}

// writeItem commits one write to the writer's own ids [base, base+rangeUsed).
func writeItem(ctx context.Context, db *sql.DB, r *rand.Rand, base int) error {
	id := func() int { return base + r.IntN(rangeUsed) }
	val := fmt.Sprint("v", r.IntN(1e6))
	var err error
	switch r.IntN(6) {
	case 0, 1:
		_, err = db.ExecContext(ctx, "INSERT INTO load_items (id, grp, val) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE val = VALUES(val), hidden = 0", id(), r.IntN(4), val)
	case 2:
		_, err = db.ExecContext(ctx, "UPDATE load_items SET val = ? WHERE id = ?", val, id())
	case 3:
		_, err = db.ExecContext(ctx, "UPDATE load_items SET hidden = 1 - hidden WHERE id = ?", id())
	case 4:
		_, err = db.ExecContext(ctx, "DELETE FROM load_items WHERE id = ?", id())
	case 5:
		// A range update reads its keys with a before-image.
		var tx *sql.Tx
		if tx, err = db.BeginTx(ctx, nil); err != nil {
			return err
		}
		lo := base + r.IntN(rangeUsed-3)
		if _, err = tx.ExecContext(ctx, "INSERT INTO load_items (id, grp, val) VALUES (?, 0, ?) ON DUPLICATE KEY UPDATE val = VALUES(val)", id(), val); err == nil {
			_, err = tx.ExecContext(ctx, "UPDATE load_items SET grp = grp + 1 WHERE id BETWEEN ? AND ?", lo, lo+3)
		}
		if err != nil {
			tx.Rollback()
			return err
		}
		err = tx.Commit()
	}
	return err
}

func (l *writeLoad) setPhase(name string) { l.phase.Store(name) }

// finish stops the writers and fails the test if any write failed.
func (l *writeLoad) finish() {
	l.t.Helper()
	close(l.stop)
	l.wg.Wait()
	if len(l.errs) > 0 {
		l.t.Errorf("%d of %d writes failed, first: %v", len(l.errs), int(l.commits.Load())+len(l.errs), l.errs[0])
	}
}

// quantile is the q-quantile of the latency of the commits that started in
// phase, and their number.
func (l *writeLoad) quantile(phase string, q float64) (time.Duration, int) {
	l.mu.Lock()
	d := slices.Clone(l.lat[phase])
	l.mu.Unlock()
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[int(q*float64(len(d)-1))], len(d)
}

// latency summarises the commits that started in phase.
func (l *writeLoad) latency(phase string) string {
	r := func(q float64) time.Duration {
		d, _ := l.quantile(phase, q)
		return d.Round(100 * time.Microsecond)
	}
	_, n := l.quantile(phase, 0)
	return fmt.Sprintf("%s: %d commits, p50 %v p99 %v max %v", phase, n, r(.5), r(.99), r(1))
}

// pushClock watches successful compare-and-swaps through PushTrace: the
// longest time without one, and the first one after a moment.
type pushClock struct {
	mu     sync.Mutex
	ok     int // successful swaps
	last   time.Time
	maxGap time.Duration
	mark   time.Time
	first  time.Time // first success after mark
}

func (p *pushClock) swapped(_ []string, ok bool) {
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.ok++
	if !p.last.IsZero() {
		p.maxGap = max(p.maxGap, now.Sub(p.last))
	}
	p.last = now
	if !p.mark.IsZero() && p.first.IsZero() {
		p.first = now
	}
}

// markNow starts waiting for the next success.
func (p *pushClock) markNow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mark, p.first = time.Now(), time.Time{}
}

// firstAfterMark is how long after the mark the next push succeeded.
func (p *pushClock) firstAfterMark() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first.IsZero() {
		return -1
	}
	return p.first.Sub(p.mark)
}

func (p *pushClock) swaps() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ok
}

func (p *pushClock) longestGap() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxGap
}

// failureRequestTimeout is the etcd deadline in the failure tests: every
// etcd call of a push gives up after it while etcd does not answer.
const failureRequestTimeout = 2 * time.Second

// etcdFailure is one way for etcd to fail: inject breaks it, hold is how
// long it stays broken under the load, and recover (nil: etcd mends itself,
// by electing a leader or carrying on with two members) mends it.
type etcdFailure struct {
	name    string
	proxied bool // the connectors reach etcd through delaying proxies
	inject  func(r *failureRun)
	hold    time.Duration
	recover func(r *failureRun)
}

// failureRun is what an etcdFailure acts on.
type failureRun struct {
	t       *testing.T
	cluster *testenv.Etcd
	proxies []*testenv.Proxy
	clock   *pushClock
}

func (r *failureRun) setDelay(d time.Duration) {
	for _, p := range r.proxies {
		p.SetDelay(d)
	}
}

// TestEtcdFailuresUnderWriteLoad breaks a three-member etcd in four ways
// while six goroutines commit through two driver handles: the leader is
// killed, one member is stopped, the whole cluster is down for 10 s, and
// etcd is slow (its answers delayed first below, then above the request
// timeout). Throughout, every commit succeeds and takes what the database
// takes; pushes wait, with backoff; once etcd is back, every key converges.
// The figures (time to the first push after recovery, to convergence) are
// logged; docs/operations.md quotes them. It takes about 45 s; -short
// skips it.
func TestEtcdFailuresUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("about 45 s of etcd failures; run without -short")
	}
	cluster := startCluster(t, 3)
	ctx := context.Background()
	for _, f := range []etcdFailure{
		{
			name: "leader killed",
			inject: func(r *failureRun) {
				leader, err := r.cluster.WaitLeader(ctx)
				if err != nil {
					r.t.Fatal(err)
				}
				if err := r.cluster.KillMember(leader); err != nil {
					r.t.Fatal(err)
				}
			},
			hold: 1500 * time.Millisecond,
		},
		{
			name: "follower stopped",
			inject: func(r *failureRun) {
				leader, err := r.cluster.WaitLeader(ctx)
				if err != nil {
					r.t.Fatal(err)
				}
				if err := r.cluster.StopMember((leader + 1) % r.cluster.Members()); err != nil {
					r.t.Fatal(err)
				}
			},
			hold: 1500 * time.Millisecond,
		},
		{
			name: "cluster down 10s",
			inject: func(r *failureRun) {
				if err := r.cluster.StopAll(); err != nil {
					r.t.Fatal(err)
				}
			},
			hold: 10 * time.Second,
			recover: func(r *failureRun) {
				if err := r.cluster.StartAll(ctx); err != nil {
					r.t.Fatal(err)
				}
			},
		},
		{
			// The answers of every member reach the driver late: first
			// 2×200 ms, within the request timeout, for 2 s, while pushes
			// must go on; then 2×1.5 s, beyond it, for 3 s, so that every
			// etcd call times out, some after etcd applied them.
			name:    "etcd slow",
			proxied: true,
			inject: func(r *failureRun) {
				r.setDelay(200 * time.Millisecond)
				time.Sleep(500 * time.Millisecond) // requests already sent
				before := r.clock.swaps()
				time.Sleep(1500 * time.Millisecond)
				slow := r.clock.swaps() - before
				r.t.Logf("etcd slow: %d pushes succeeded in 1.5 s of 2×200 ms latency", slow)
				if slow == 0 {
					r.t.Error("no push succeeded while etcd answered within the request timeout")
				}
				r.setDelay(1500 * time.Millisecond)
			},
			hold: 3 * time.Second,
			recover: func(r *failureRun) {
				r.setDelay(0)
			},
		},
	} {
		t.Run(f.name, func(t *testing.T) { runEtcdFailure(t, cluster, f) })
	}
}

func runEtcdFailure(t *testing.T, cluster *testenv.Etcd, f etcdFailure) {
	const pools, writers = 2, 6
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Start from a whole, healthy cluster whatever the last case left.
	if err := cluster.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	endpoints := cluster.Endpoints()
	var proxies []*testenv.Proxy
	if f.proxied {
		for i, ep := range endpoints {
			p, err := testenv.StartProxy(ep)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			proxies = append(proxies, p)
			endpoints[i] = p.Addr()
		}
	}
	e := newEnv(t, loadSchema, loadMapping())
	useCluster(e, cluster, endpoints)
	var clock pushClock
	var reported sync.Map // error text -> count, what OnError was told
	dbs := make([]*sql.DB, pools)
	for i := range dbs {
		dbs[i], _ = e.open(func(_ *mysql.Config, cfg *Config) {
			cfg.Etcd.RequestTimeout = failureRequestTimeout
			cfg.Trace = &PushTrace{Swapped: clock.swapped}
			cfg.OnError = func(err error) {
				n, _ := reported.LoadOrStore(err.Error(), new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
		})
	}
	seedItems(t, dbs[0], writers)
	e.converged()

	run := &failureRun{t: t, cluster: cluster, proxies: proxies, clock: &clock}
	load := startLoad(t, dbs, writers, 5*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	load.setPhase("failure")
	failed := time.Now()
	f.inject(run)
	time.Sleep(f.hold)
	if f.recover != nil {
		f.recover(run)
	}
	load.setPhase("after")
	recovered := time.Now()
	clock.markNow()
	time.Sleep(time.Second)
	load.finish()
	stopped := time.Now()
	e.converged()
	converged := time.Since(recovered)

	// Were commits waiting for etcd, half of them would take the request
	// timeout while etcd does not answer. The median is robust to a loaded
	// machine's stray slow commit.
	if d, n := load.quantile("failure", .5); n == 0 || d > failureRequestTimeout/10 {
		t.Errorf("%d commits while etcd failed, median %v: commits must not wait for etcd (request timeout %v)", n, d, failureRequestTimeout)
	}
	var st Stats
	for _, c := range e.conns {
		s := c.Stats()
		st.Errors += s.Errors
		st.Conflicts += s.Conflicts
		st.Puts += s.Puts
		st.Deletes += s.Deletes
	}
	t.Logf("%s: %d commits, %d failed; broken for %v", f.name, load.commits.Load(), len(load.errs), recovered.Sub(failed).Round(time.Millisecond))
	t.Logf("  commit latency %s | %s | %s", load.latency("before"), load.latency("failure"), load.latency("after"))
	first := "-"
	if f.recover != nil {
		first = clock.firstAfterMark().Round(time.Millisecond).String()
	}
	t.Logf("  pushes: longest stall %v; first push %s after recovery; converged %v after recovery (writers stopped at +%v, drained %v after that)",
		clock.longestGap().Round(time.Millisecond), first, converged.Round(time.Millisecond),
		stopped.Sub(recovered).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
	t.Logf("  stats: %d puts, %d deletes, %d conflicts, %d push errors retried", st.Puts, st.Deletes, st.Conflicts, st.Errors)
	reported.Range(func(msg, n any) bool {
		t.Logf("  OnError ×%d: %s", n.(*atomic.Int64).Load(), msg)
		return true
	})
}
