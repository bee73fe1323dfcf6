package mysqletcd

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// startCluster starts a private etcd of the given number of members for a
// test that stops, slows or reconfigures etcd, which the shared one must
// not be. It is closed when t ends, after everything registered later.
func startCluster(t *testing.T, members int, configure ...func(*embed.Config)) *testenv.Etcd {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := testenv.StartEtcd(ctx, members, configure...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// useCluster points e at a private cluster: its checks read c directly, and
// the connectors it opens reach etcd through endpoints (c's own, or proxies
// in front of them). Call it before e.open. Sync errors, which these tests
// cause on purpose, are not logged.
func useCluster(e *env, c *testenv.Etcd, endpoints []string) {
	e.t.Helper()
	e.etcd = c.Client(e.t)
	e.cfg.Etcd.Endpoints = endpoints
	e.cfg.Logger = slog.New(slog.DiscardHandler)
}
