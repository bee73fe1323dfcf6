package mysqletcd

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// metricValues reads every non-zero series of g as "name{label=value,...}",
// histograms as their _count.
func metricValues(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			var labels []string
			for _, lp := range m.Label {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			name, v := mf.GetName(), 0.0
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Histogram != nil:
				name, v = name+"_count", float64(m.Histogram.GetSampleCount())
			}
			if v != 0 {
				out[name+"{"+strings.Join(labels, ",")+"}"] = v
			}
		}
	}
	return out
}

func expectMetrics(t *testing.T, g prometheus.Gatherer, want map[string]float64) {
	t.Helper()
	got := metricValues(t, g)
	if !maps.Equal(got, want) {
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(got)) {
			lines = append(lines, "got  "+k+" "+ftoa(got[k]))
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got[k] != want[k] {
				lines = append(lines, "want "+k+" "+ftoa(want[k]))
			}
		}
		t.Fatalf("metrics differ:\n%s", strings.Join(lines, "\n"))
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func tableLabel(t *testing.T, e *env, name string) string {
	mc, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	return mc.DBName + "." + name
}

func TestMetricsCountWhatTheDriverDid(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	reg := prometheus.NewRegistry()
	ctx := context.Background()
	var blocked atomic.Pointer[chan struct{}] // pushes wait on it while set
	var conflictOnce atomic.Bool
	db, c := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Metrics = reg
		cfg.Trace = &PushTrace{
			FencesRead: func([]string) {
				if ch := blocked.Load(); ch != nil {
					<-*ch
				}
			},
			RowsRead: func(keys []string) {
				if conflictOnce.CompareAndSwap(true, false) { // another push's fence write
					e.etcd.Put(ctx, e.cfg.FencePrefix+"/fence"+keys[0], "")
				}
			},
		}
	})
	users := tableLabel(t, e, "users")
	step := func(q string) {
		t.Helper()
		mustExec(t, db, q)
		e.flush() // one push per commit: none coalesces with the next
	}

	step("INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob'), (3, 'cy')") // 6 puts
	step("UPDATE users SET age = 30 WHERE id = 1")                                // by id: put; by name: unchanged
	conflictOnce.Store(true)
	step("UPDATE users SET age = 31 WHERE id = 2") // the same, after a lost compare-and-swap
	step("DELETE FROM users WHERE id = 3")         // 2 deletes

	ch := make(chan struct{})
	blocked.Store(&ch)
	mustExec(t, db, "UPDATE users SET age = 32 WHERE id = 1")
	expectGauge(t, reg, "mysqletcd_queue_depth", 2)
	c.pipe.st.sync.setOutboxBacklog(7)
	expectGauge(t, reg, "mysqletcd_outbox_backlog", 7)
	c.pipe.st.sync.setOutboxBacklog(0)
	blocked.Store(nil)
	close(ch)
	e.flush() // by id: put; by name: unchanged

	step("TRUNCATE users") // both mappings resync, deleting 4 keys; no commit latency
	e.converged()

	step("INSERT INTO users (id, name) VALUES (6, 'fay')")                 // 2 puts
	e.exec("INSERT INTO users (id, name, email) VALUES (5, 'eve', 'e@x')") // 2 missing
	e.exec("UPDATE users SET email = 'zz' WHERE id = 6")                   // 2 stale
	if _, err := e.etcd.Put(ctx, e.prefix+"/users/99", "{}"); err != nil { // 1 orphan
		t.Fatal(err)
	}
	if _, err := c.Reconcile(ctx, ReconcileOptions{}); err != nil { // 4 puts, 1 delete
		t.Fatal(err)
	}
	e.converged()

	expectMetrics(t, reg, map[string]float64{
		"mysqletcd_keys_captured_total{table=" + users + "}":                16,
		"mysqletcd_pushes_total{outcome=put,table=" + users + "}":           6 + 1 + 1 + 1 + 2 + 4,
		"mysqletcd_pushes_total{outcome=unchanged,table=" + users + "}":     3,
		"mysqletcd_pushes_total{outcome=delete,table=" + users + "}":        2 + 4 + 1,
		"mysqletcd_cas_conflicts_total{table=" + users + "}":                1,
		"mysqletcd_push_retries_total{table=" + users + "}":                 1,
		"mysqletcd_push_latency_seconds_count{table=" + users + "}":         16,
		"mysqletcd_fallbacks_total{reason=table-level,table=" + users + "}": 2,
		"mysqletcd_drift_keys_total{kind=missing,table=" + users + "}":      2,
		"mysqletcd_drift_keys_total{kind=stale,table=" + users + "}":        2,
		"mysqletcd_drift_keys_total{kind=orphan,table=" + users + "}":       1,
	})
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
	if n, err := testutil.GatherAndCount(reg, "mysqletcd_pushes_total"); err != nil || n != 4 {
		t.Errorf("mysqletcd_pushes_total has %d series (%v), want 4: one per outcome", n, err)
	}
}

// expectGauge waits briefly for an unlabelled gauge to read want.
func expectGauge(t *testing.T, g prometheus.Gatherer, name string, want float64) {
	t.Helper()
	var got float64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = metricValues(t, g)[name+"{}"]; got == want {
			return
		}
	}
	t.Fatalf("%s = %v, want %v", name, got, want)
}

func TestMetricsCountFailedPushes(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	reg := prometheus.NewRegistry()
	db, _ := e.open(func(_ *mysql.Config, cfg *Config) {
		cfg.Metrics = reg
		cfg.Etcd.Endpoints = []string{"127.0.0.1:1"} // nothing listens there
		cfg.Etcd.RequestTimeout = 100 * time.Millisecond
		cfg.DrainTimeout = 100 * time.Millisecond
		cfg.OnError = func(error) {}
	})
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'ann')")
	expectGauge(t, reg, "mysqletcd_queue_depth", 2)
	users := tableLabel(t, e, "users")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		v := metricValues(t, reg)
		if v["mysqletcd_pushes_total{outcome=error,table="+users+"}"] >= 2 && v["mysqletcd_push_retries_total{table="+users+"}"] >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed pushes counted: %v", v)
		}
	}
	db.Close()
	expectGauge(t, reg, "mysqletcd_queue_depth", 0) // a closed connector counts no more
}

func TestMetricsOfConnectorsSharingARegistryAddUp(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	reg := prometheus.NewRegistry()
	open := func(r prometheus.Registerer) {
		db, _ := e.open(func(_ *mysql.Config, cfg *Config) { cfg.Metrics = r })
		mustExec(t, db, "INSERT INTO users (name) VALUES (?)", "u"+itoa(int(time.Now().UnixNano()%1e9)))
	}
	open(prometheus.WrapRegistererWith(prometheus.Labels{"db": "a"}, reg))
	open(prometheus.WrapRegistererWith(prometheus.Labels{"db": "a"}, reg))
	open(prometheus.WrapRegistererWith(prometheus.Labels{"db": "b"}, reg))
	e.converged()
	users := tableLabel(t, e, "users")
	got := metricValues(t, reg)
	if a, b := got["mysqletcd_keys_captured_total{db=a,table="+users+"}"], got["mysqletcd_keys_captured_total{db=b,table="+users+"}"]; a != 4 || b != 2 {
		t.Errorf("keys captured: db=a %v (want 4, two connectors), db=b %v (want 2)", a, b)
	}

	taken := prometheus.NewRegistry()
	taken.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "mysqletcd_pushes_total", Help: "someone else's"}))
	_, err := NewConnector(nil, Config{Etcd: e.cfg.Etcd, Tables: e.cfg.Tables, Metrics: taken})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("NewConnector on a registry with a clashing metric = %v, want ErrConfig naming metrics", err)
	}
}
