package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd"
)

func watchCommand() *command {
	return &command{
		name:     "watch",
		summary:  "print changes to the mapped keys as they happen",
		synopsis: "watch [--table TABLE]... [--from-rev REVISION] [flags]",
		about: `
Follows etcd under the key prefix of every mapping (or of the mappings of
--table) and prints one line per change until interrupted (Ctrl-C, exit 0):

  PUT    <key> rev=<mod revision> <value>
  DELETE <key> rev=<revision>

Values longer than 64 characters are cut and end with their size; bytes
that are not printable text are escaped (\n, \x00, ...). The driver's own
fence and epoch keys (under fence-prefix) are not shown. The mappings are
bound to the live schema first, so the database must be reachable.`,
		examples: `  # every mapped key, from now on
  mysqletcd watch

  # the users keys, replaying history from revision 1200
  mysqletcd watch --table users --from-rev 1200`,
		define: func(fs *flag.FlagSet, inv *invocation) action {
			var conn connFlags
			conn.define(fs)
			var tables tableList
			fs.Var(&tables, "table", "only the mappings of `TABLE` (table or db.table); repeat the flag\nor separate names with commas (default: every mapping)")
			fromRev := fs.Int64("from-rev", 0, "start at etcd `REVISION`, replaying the changes since\n(default: changes from now on)")
			return func(ctx context.Context) error {
				if *fromRev < 0 {
					return usagef("--from-rev %d: pass an etcd revision, 1 or more", *fromRev)
				}
				t, err := inv.resolve(&conn, true)
				if err != nil {
					return err
				}
				prefixes, err := watchPrefixes(ctx, inv, t, tables)
				if err != nil {
					return err
				}
				cli, err := mysqletcd.NewEtcdClient(t.cfg.Etcd)
				if err != nil {
					return err
				}
				defer cli.Close()
				w := &watcher{inv: inv, cli: cli, prefixes: prefixes, fences: fencePrefix(t.cfg), timeout: t.cfg.Etcd.RequestTimeout}
				err = w.follow(ctx, *fromRev)
				if ctx.Err() != nil {
					return nil // interrupted: the normal end of a watch
				}
				return err
			}
		},
	}
}

// watchPrefixes binds the mappings to the schema and returns the key
// prefixes of those of tables (all when tables is empty), without the ones
// that another one contains.
func watchPrefixes(ctx context.Context, inv *invocation, t *target, tables []string) ([]string, error) {
	conn, err := t.connect(inv, inv.stderr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	checks, err := conn.Check(ctx)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	for _, name := range tables {
		found := false
		for _, c := range checks {
			if tableNamed(c.Table, name) {
				prefixes = append(prefixes, c.KeyPrefix)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("--table %s: no mapping for this table; mapped tables: %s", name, mappedTables(checks))
		}
	}
	if len(tables) == 0 {
		for _, c := range checks {
			prefixes = append(prefixes, c.KeyPrefix)
		}
	}
	return outermost(prefixes), nil
}

// tableNamed says whether name ("users" or "app.users") names the
// qualified table "schema.table".
func tableNamed(qualified, name string) bool {
	_, bare, _ := strings.Cut(qualified, ".")
	return strings.EqualFold(name, qualified) || strings.EqualFold(name, bare)
}

func mappedTables(checks []mysqletcd.MappingCheck) string {
	var names []string
	for _, c := range checks {
		if !slices.Contains(names, c.Table) {
			names = append(names, c.Table)
		}
	}
	return strings.Join(names, ", ")
}

// outermost sorts prefixes and drops each that another one contains, so
// that no change is printed twice.
func outermost(prefixes []string) []string {
	slices.Sort(prefixes)
	var out []string
	for _, p := range prefixes {
		if len(out) == 0 || !strings.HasPrefix(p, out[len(out)-1]) {
			out = append(out, p)
		}
	}
	return out
}

// fencePrefix is where the driver keeps its fence and epoch keys.
func fencePrefix(cfg mysqletcd.Config) string {
	p := strings.TrimRight(cfg.FencePrefix, "/")
	if p == "" {
		return "/_mysqletcd"
	}
	return p
}

// watcher prints the changes under some prefixes.
type watcher struct {
	inv      *invocation
	cli      *clientv3.Client
	prefixes []string
	fences   string // keys under it are the driver's own: not shown
	timeout  time.Duration

	mu sync.Mutex // one line at a time
}

// follow watches every prefix from rev (0: from now) until ctx ends.
func (w *watcher) follow(ctx context.Context, rev int64) error {
	if rev == 0 {
		now, err := w.revision(ctx)
		if err != nil {
			return err
		}
		rev = now + 1
	}
	fmt.Fprintf(w.inv.stderr, "watching %s from revision %d; Ctrl-C to stop\n", strings.Join(w.prefixes, ", "), rev)
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	errs := make(chan error, len(w.prefixes))
	for _, p := range w.prefixes {
		events := w.cli.Watch(ctx, p, clientv3.WithPrefix(), clientv3.WithRev(rev))
		go func() { errs <- w.print(ctx, events, rev) }()
	}
	var first error
	for range w.prefixes {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// revision reads etcd's current revision.
func (w *watcher) revision(ctx context.Context) (int64, error) {
	timeout := w.timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := w.cli.Get(ctx, w.prefixes[0], clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read etcd's revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// print prints the events of one watch until it ends; the end of ctx is
// not an error.
func (w *watcher) print(ctx context.Context, events clientv3.WatchChan, rev int64) error {
	for resp := range events {
		if err := resp.Err(); err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case resp.CompactRevision != 0:
				return fmt.Errorf("revision %d has been compacted; etcd keeps history from revision %d: pass --from-rev %d or later",
					rev, resp.CompactRevision, resp.CompactRevision)
			}
			return fmt.Errorf("watch: %w", err)
		}
		for _, ev := range resp.Events {
			key := string(ev.Kv.Key)
			if key == w.fences || strings.HasPrefix(key, w.fences+"/") {
				continue
			}
			w.mu.Lock()
			fmt.Fprintln(w.inv.stdout, eventLine(ev))
			w.mu.Unlock()
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("watch: etcd ended the watch: run the command again")
}

// eventLine is "PUT    <key> rev=<n> <value>" or "DELETE <key> rev=<n>".
func eventLine(ev *clientv3.Event) string {
	if ev.Type == clientv3.EventTypeDelete {
		return fmt.Sprintf("DELETE %s rev=%d", printable(string(ev.Kv.Key)), ev.Kv.ModRevision)
	}
	return fmt.Sprintf("PUT    %s rev=%d %s", printable(string(ev.Kv.Key)), ev.Kv.ModRevision, shortValue(ev.Kv.Value, valueWidth))
}
