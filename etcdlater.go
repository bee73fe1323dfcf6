package mysqletcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// With etcd username and password set, etcd's client logs in while it
// connects, so it cannot be made while etcd is down. The driver must not
// turn that into failed connections to the database: the first connection
// then opens without etcd, and the syncer makes the client in the
// background, retrying with backoff; pushes wait for it, queued (or in the
// outbox), like pushes waiting for an etcd that is down.

// etcdUnreachable reports whether an error of making the etcd client says
// only that etcd could not be reached (not that the credentials or the TLS
// setup are wrong, which must fail the open).
func etcdUnreachable(err error) bool {
	switch {
	case errors.Is(err, ErrEtcdAccess), errors.Is(err, rpctypes.ErrAuthFailed), errors.Is(err, rpctypes.ErrAuthNotEnabled),
		errors.Is(err, rpctypes.ErrPermissionDenied), errors.Is(err, rpctypes.ErrInvalidAuthToken):
		return false
	}
	return true
}

// connectEtcd makes the syncer's etcd client once etcd can be reached, and
// then lets the goroutines that wait for it go.
func (s *syncer) connectEtcd() {
	for attempt := 1; ; attempt++ {
		cli, release, err := acquireEtcd(s.cfg.Etcd)
		if err == nil {
			s.etcd, s.releaseEtcd = cli, release
			close(s.etcdReady)
			s.cfg.Logger.Info("mysqletcd: connected to etcd", "endpoints", s.cfg.Etcd.Endpoints)
			return
		}
		if !etcdUnreachable(err) {
			s.stats.errors.Add(1)
			s.report(fmt.Errorf("connect to etcd: %w", err))
		}
		if sleepCtx(s.ctx, backoff(attempt, errorBackoff)) != nil {
			return
		}
	}
}

// awaitEtcd waits until the syncer has its etcd client; false when ctx
// ended first.
func (s *syncer) awaitEtcd(ctx context.Context) bool {
	select {
	case <-s.etcdReady:
		return true
	case <-ctx.Done():
		return false
	}
}

// readyChannel is a closed channel: the client is there from the start.
func readyChannel() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}
