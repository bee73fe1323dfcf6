package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func reconcile(t *testing.T, c *Connector, opts ReconcileOptions) *ReconcileReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := c.Reconcile(ctx, opts)
	if err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	return rep
}

// fillUsers inserts n rows with the plain driver, behind the driver's back.
func fillUsers(t *testing.T, e *env, n int) {
	t.Helper()
	for start := 1; start <= n; start += 1000 {
		var b strings.Builder
		b.WriteString("INSERT INTO users (id, name, email, age) VALUES ")
		for i := start; i < start+1000 && i <= n; i++ {
			if i > start {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d, 'user%d', 'u%d@example.com', %d)", i, i, i, i%90)
		}
		e.exec(b.String())
	}
}

func TestReconcileBackfillsATableWrittenWithThePlainDriver(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	const rows = 10000
	fillUsers(t, e, rows)
	e.exec("UPDATE users SET deleted_at = NOW() WHERE id % 10 = 0") // filtered out of the first mapping
	_, c := e.open(nil)

	before := reconcile(t, c, ReconcileOptions{DryRun: true})
	if got := before.Mappings[0].Missing; got != rows*9/10 {
		t.Errorf("dry run: users missing = %d, want %d", got, rows*9/10)
	}
	if got := before.Mappings[1].Missing; got != rows {
		t.Errorf("dry run: by-name missing = %d, want %d", got, rows)
	}
	if n := len(e.etcdState()); n != 0 {
		t.Fatalf("a dry run wrote %d keys", n)
	}

	var progress []ReconcileProgress
	sync := reconcile(t, c, ReconcileOptions{Progress: func(p ReconcileProgress) { progress = append(progress, p) }})
	if sync.Mappings[0].Put != rows*9/10 || sync.Mappings[1].Put != rows || sync.Drift() != rows*19/10 {
		t.Errorf("sync report: %+v", sync.Mappings)
	}
	if len(progress) == 0 || progress[0].RowsTotal != rows {
		t.Errorf("progress: %d reports, first %+v", len(progress), progress)
	}
	t.Logf("sync took %v; stats %+v", sync.Elapsed, c.Stats())
	e.converged()
	after := reconcile(t, c, ReconcileOptions{DryRun: true})
	if after.Drift() != 0 || after.Mappings[0].Unchanged != rows*9/10 || after.Mappings[0].RowsScanned != rows {
		t.Errorf("after sync, verify: %+v", after.Mappings)
	}
}

// Hand-made drift of every kind is reported key by key, then fixed.
func TestReconcileReportsAndFixesExactlyTheDrift(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	fillUsers(t, e, 50)
	db, c := e.open(nil)
	reconcile(t, c, ReconcileOptions{})
	e.converged()

	ctx := context.Background()
	key := func(id int) string { return fmt.Sprintf("%s/users/%d", e.prefix, id) }
	if _, err := e.etcd.Put(ctx, key(3), `{"stale":true}`); err != nil { // stale
		t.Fatal(err)
	}
	if _, err := e.etcd.Delete(ctx, key(4)); err != nil { // missing
		t.Fatal(err)
	}
	if _, err := e.etcd.Put(ctx, key(900), `{}`); err != nil { // orphan: no row
		t.Fatal(err)
	}
	e.exec("UPDATE users SET email = 'behind' WHERE id = 5")           // stale in both mappings
	e.exec("DELETE FROM users WHERE id = 6")                           // two orphans
	e.exec("INSERT INTO users (id, name) VALUES (70, 'newcomer')")     // missing in both
	e.exec("UPDATE users SET deleted_at = NOW() WHERE id = 7")         // an orphan of the filtered mapping
	mustExec(t, db, "UPDATE users SET email = 'through' WHERE id = 8") // through the driver: no drift
	e.flush()

	rep := reconcile(t, c, ReconcileOptions{DryRun: true, Samples: 100})
	users, byName := rep.Mappings[0], rep.Mappings[1]
	if users.Missing != 2 || users.Stale != 2 || users.Orphans != 3 {
		t.Errorf("users: missing %d stale %d orphans %d, want 2 2 3", users.Missing, users.Stale, users.Orphans)
	}
	if byName.Missing != 1 || byName.Stale != 1 || byName.Orphans != 1 {
		t.Errorf("by-name: missing %d stale %d orphans %d, want 1 1 1", byName.Missing, byName.Stale, byName.Orphans)
	}
	want := []string{
		"missing " + key(4), "missing " + key(70), "orphan " + key(6), "orphan " + key(7), "orphan " + key(900),
		"stale " + key(3), "stale " + key(5),
	}
	var got []string
	for _, d := range users.Samples {
		got = append(got, string(d.Kind)+" "+d.Key)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("users drift:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	fixed := reconcile(t, c, ReconcileOptions{})
	if fixed.Drift() != rep.Drift() {
		t.Errorf("sync found %d differences, the dry run %d", fixed.Drift(), rep.Drift())
	}
	e.converged()
	if again := reconcile(t, c, ReconcileOptions{DryRun: true}); again.Drift() != 0 {
		t.Errorf("after sync: %+v", again.Mappings)
	}
}

func TestReconcileBesideEightWritersConverges(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	fillUsers(t, e, 40)
	dbs := make([]*sql.DB, 3)
	for i := range dbs {
		dbs[i], _ = e.open(nil)
	}
	_, rc := e.open(nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for ctx.Err() == nil {
				randomWrite(ctx, dbs[w%len(dbs)], r)
			}
		})
	}
	// Writes behind the driver's back too: only a reconcile fixes them.
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			e.plain.ExecContext(ctx, "UPDATE users SET age = ? WHERE id = ?", i, 1+i%40)
			time.Sleep(2 * time.Millisecond)
		}
	})
	for range 5 {
		reconcile(t, rc, ReconcileOptions{FenceGrace: time.Nanosecond})
	}
	cancel()
	wg.Wait()
	reconcile(t, rc, ReconcileOptions{})
	e.converged()
}

func TestReconcileCollectsTheFencesOfDeletedKeys(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, c := e.open(nil)
	for i := 1; i <= 100; i++ {
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, ?)", i, fmt.Sprint("n", i))
	}
	mustExec(t, db, "DELETE FROM users WHERE id > 30")
	e.converged()
	fences := func() int64 {
		resp, err := e.etcd.Get(context.Background(), e.cfg.FencePrefix+"/fence", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	if n := fences(); n != 200 {
		t.Fatalf("fences before: %d, want 200 (2 mappings x 100 keys)", n)
	}
	first := reconcile(t, c, ReconcileOptions{FenceGrace: time.Nanosecond})
	if first.Mappings[0].FencesCollected != 0 {
		t.Errorf("the first run collected %d fences; it has no mark to date them", first.Mappings[0].FencesCollected)
	}
	time.Sleep(time.Millisecond)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (31, 'back')") // pushed after the mark: kept
	e.flush()
	second := reconcile(t, c, ReconcileOptions{FenceGrace: time.Nanosecond})
	collected := second.Mappings[0].FencesCollected + second.Mappings[1].FencesCollected
	// users/32..100, and by-name/n31..n100 (row 31 came back as 'back').
	if collected != 69+70 {
		t.Errorf("collected %d fences, want %d", collected, 69+70)
	}
	if n := fences(); n != 200+1-139 { // by-name/back is new
		t.Errorf("fences after: %d, want %d", n, 200+1-139)
	}
	if st := c.Stats(); st.FencesCollected != collected {
		t.Errorf("Stats.FencesCollected = %d, want %d", st.FencesCollected, collected)
	}
	// The keys work as before: write and delete them again.
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (50, 'again')")
	mustExec(t, db, "DELETE FROM users WHERE id = 31")
	e.converged()
}

func TestReconcileHoldsItsRowRate(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()[0])
	fillUsers(t, e, 600)
	_, c := e.open(nil)
	start := time.Now()
	reconcile(t, c, ReconcileOptions{RowsPerSecond: 2000})
	if took := time.Since(start); took < 250*time.Millisecond {
		t.Errorf("600 rows at 2000 rows/s took %v, want at least 250ms", took)
	}
	e.converged()
}

func TestReconcileNamesTheMappedTablesForAnUnknownOne(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	_, c := e.open(nil)
	_, err := c.Reconcile(context.Background(), ReconcileOptions{Tables: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `no mapping for table "nope"`) || !strings.Contains(err.Error(), ".users") {
		t.Fatalf("err = %v", err)
	}
	rep := reconcile(t, c, ReconcileOptions{Tables: []string{"users"}})
	if len(rep.Mappings) != 2 {
		t.Errorf("--table users reconciled %d mappings, want 2", len(rep.Mappings))
	}
}
