package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mysqletcd/mysqletcd/bench/internal/rig"
)

// cdc is the binlog alternative: a canal (github.com/go-mysql-org/go-mysql)
// follows the server's row binlog from the current position, and a pusher
// goroutine puts the row images of table under prefix (deletes included).
// The pusher takes every transaction that arrived while its last Txn was
// in flight into the next one (whole transactions, in binlog order, up to
// about 120 keys), so it keeps up the way a tuned CDC pusher does rather
// than paying one round trip per transaction. It is otherwise as small as
// such a pusher gets: no checkpoint of its position, no retry.
type cdc struct {
	canal.DummyEventHandler
	c      *canal.Canal
	cli    *clientv3.Client
	prefix string

	pending []clientv3.Op      // the open transaction's operations
	txs     chan []clientv3.Op // committed transactions, to the pusher
	txns    atomic.Int64
	rows    atomic.Int64
	puts    atomic.Int64 // etcd Txns written
	errMu   sync.Mutex
	err     error
	done    chan struct{}
	pushed  chan struct{}
}

func startCDC(dsn string, cli *clientv3.Client, table, prefix string) (*cdc, error) {
	mc, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg := canal.NewDefaultConfig()
	cfg.Addr, cfg.User, cfg.Password = mc.Addr, mc.User, mc.Passwd
	cfg.Flavor = gomysql.MariaDBFlavor
	cfg.ServerID = 4242
	cfg.Dump.ExecutionPath = "" // follow the binlog only: no mysqldump
	cfg.IncludeTableRegex = []string{"^" + regexp.QuoteMeta(mc.DBName+"."+table) + "$"}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := canal.NewCanal(cfg)
	if err != nil {
		return nil, fmt.Errorf("canal: %w", err)
	}
	pos, err := c.GetMasterPos()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("canal: %w", err)
	}
	h := &cdc{c: c, cli: cli, prefix: prefix, txs: make(chan []clientv3.Op, 1<<14), done: make(chan struct{}), pushed: make(chan struct{})}
	c.SetEventHandler(h)
	go h.push()
	go func() {
		defer close(h.done)
		if err := c.RunFrom(pos); err != nil && c.Ctx().Err() == nil {
			h.fail(err)
		}
	}()
	return h, nil
}

func (h *cdc) String() string { return "mysqletcd-bench-cdc" }

func (h *cdc) fail(err error) {
	h.errMu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.errMu.Unlock()
}

// Err is the first error the pusher met.
func (h *cdc) Err() error {
	h.errMu.Lock()
	defer h.errMu.Unlock()
	return h.err
}

// OnRow turns row images into etcd operations of the open transaction.
func (h *cdc) OnRow(e *canal.RowsEvent) error {
	idc, valc, nc := e.Table.FindColumn("id"), e.Table.FindColumn("val"), e.Table.FindColumn("n")
	step, first := 1, 0
	if e.Action == canal.UpdateAction {
		step, first = 2, 1 // before and after images: keep the after
	}
	for i := first; i < len(e.Rows); i += step {
		row := e.Rows[i]
		id := toInt(row[idc])
		key := h.prefix + strconv.FormatInt(id, 10)
		if e.Action == canal.DeleteAction {
			h.pending = append(h.pending, clientv3.OpDelete(key))
		} else {
			h.pending = append(h.pending, clientv3.OpPut(key, rig.ItemJSON(id, toString(row[valc]), toInt(row[nc]))))
		}
		h.rows.Add(1)
	}
	return nil
}

// OnXID hands the transaction's operations to the pusher.
func (h *cdc) OnXID(*replication.EventHeader, gomysql.Position) error {
	if len(h.pending) > 0 {
		h.txs <- h.pending
		h.pending = nil
	}
	h.txns.Add(1)
	return nil
}

// push writes transactions in order, merging those that queued up while
// the previous Txn was in flight.
func (h *cdc) push() {
	defer close(h.pushed)
	for first := range h.txs {
		ops := first
	merge:
		for len(ops) < 120 {
			select {
			case more, ok := <-h.txs:
				if !ok {
					break merge
				}
				ops = append(ops, more...)
			default:
				break merge
			}
		}
		if err := h.write(ops); err != nil {
			h.fail(err)
		}
	}
}

// write applies ops in Txns of up to 128 operations; etcd refuses a Txn
// that writes a key twice, so only each key's last image is kept.
func (h *cdc) write(ops []clientv3.Op) error {
	seen := make(map[string]bool, len(ops))
	last := make([]clientv3.Op, 0, len(ops))
	for i := len(ops) - 1; i >= 0; i-- {
		if k := string(ops[i].KeyBytes()); !seen[k] {
			seen[k] = true
			last = append(last, ops[i])
		}
	}
	for len(last) > 0 {
		n := min(len(last), 128)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := h.cli.Txn(ctx).Then(last[:n]...).Commit()
		cancel()
		if err != nil {
			return err
		}
		h.puts.Add(1)
		last = last[n:]
	}
	return nil
}

func (h *cdc) close() {
	h.c.Close()
	<-h.done
	close(h.txs)
	<-h.pushed
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint64:
		return int64(x)
	case uint32:
		return int64(x)
	case int:
		return int64(x)
	}
	n, _ := strconv.ParseInt(fmt.Sprint(v), 10, 64)
	return n
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
