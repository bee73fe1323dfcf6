package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/types"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

const (
	// etcdReadyTimeout bounds a member's start even without a ctx deadline.
	etcdReadyTimeout = 30 * time.Second
	etcdDialTimeout  = 5 * time.Second
)

// Etcd is an in-process etcd (go.etcd.io/etcd/server/v3/embed): one member or
// a cluster, each member with its own data dir and loopback ports. Members can
// be stopped and started again for failure tests. Methods are safe for
// concurrent use.
type Etcd struct {
	mu        sync.Mutex
	root      *ownedDir
	token     string
	cluster   string // the InitialCluster value
	configure []func(*embed.Config)
	members   []*etcdMember
	closed    bool
}

type etcdMember struct {
	name      string
	dir       string
	clientURL url.URL
	peerURL   url.URL
	srv       *embed.Etcd // nil while stopped
	log       *os.File
}

// StartEtcd starts an etcd cluster of the given number of members (1, or 3
// for failure tests) on free 127.0.0.1 ports with data in a temporary
// directory, and returns once every member is ready. ctx bounds the start
// only.
//
// Members log at error level to etcd.log in their data dir. Revision-based
// auto-compaction keeps the last 1000 revisions. Heartbeat and election
// timeouts are short (10ms and 100ms) so that a single member is ready
// almost at once and a cluster elects a new leader quickly.
//
// Each configure function may change a member's configuration just before
// it starts, e.g. to set UnsafeNoFsync for speed; it must not change names,
// URLs or the data dir. One that sets ClientTLSInfo (Certs.ClientCertAuth)
// makes the members serve clients over TLS on the same addresses; clients
// then need a TLS config (Certs.ClientTLS), and NewClient and Client do not
// work.
func StartEtcd(ctx context.Context, members int, configure ...func(*embed.Config)) (*Etcd, error) {
	if members < 1 {
		return nil, fmt.Errorf("start etcd: %d members", members)
	}
	var lastErr error
	for range 5 {
		e, err := tryStartEtcd(ctx, members, configure)
		if err == nil {
			return e, nil
		}
		lastErr = err
		// A port picked by freePorts may have been taken before etcd bound
		// it; anything else will not improve by trying again.
		if !isAddrInUse(err) {
			break
		}
	}
	return nil, fmt.Errorf("start etcd: %w", lastErr)
}

func tryStartEtcd(ctx context.Context, n int, configure []func(*embed.Config)) (*Etcd, error) {
	root, err := newOwnedDir("mysqletcd-etcd-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		root.remove()
		return nil, err
	}
	// A random token keeps members of two clusters that happen to reuse each
	// other's ports from ever joining up.
	tok := make([]byte, 8)
	rand.Read(tok)
	e := &Etcd{root: root, token: hex.EncodeToString(tok), configure: configure}
	var cluster []string
	for i := range n {
		m := &etcdMember{
			name:      "m" + strconv.Itoa(i),
			dir:       filepath.Join(root.path, "m"+strconv.Itoa(i)),
			clientURL: url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports[2*i])},
			peerURL:   url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(ports[2*i+1])},
		}
		e.members = append(e.members, m)
		cluster = append(cluster, m.name+"="+m.peerURL.String())
	}
	e.cluster = strings.Join(cluster, ",")

	// Members start one after another: a new member asks its peers whether
	// it was bootstrapped before, and a peer that is already up answers at
	// once, one that is not yet listening refuses at once, while one that
	// listens but does not serve yet (as when all start together) costs a
	// one-second timeout per peer.
	for i := range e.members {
		if err := e.launchMember(i, embed.ClusterStateFlagNew); err != nil {
			e.Close()
			return nil, err
		}
	}
	for i := range e.members {
		if err := e.waitMember(ctx, i); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

// memberConfig is the embed configuration of member i.
func (e *Etcd) memberConfig(i int, state string, lg *zap.Logger) *embed.Config {
	m := e.members[i]
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = m.dir
	cfg.ListenClientUrls = []url.URL{m.clientURL}
	cfg.AdvertiseClientUrls = []url.URL{m.clientURL}
	cfg.ListenPeerUrls = []url.URL{m.peerURL}
	cfg.AdvertisePeerUrls = []url.URL{m.peerURL}
	cfg.InitialCluster = e.cluster
	cfg.InitialClusterToken = e.token
	cfg.ClusterState = state
	cfg.Logger = "zap"
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	cfg.AutoCompactionMode = embed.CompactorModeRevision
	cfg.AutoCompactionRetention = "1000"
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	for _, f := range e.configure {
		f(cfg)
	}
	if !cfg.ClientTLSInfo.Empty() {
		// Clients speak TLS on the same addresses.
		cfg.ListenClientUrls[0].Scheme = "https"
		cfg.AdvertiseClientUrls[0].Scheme = "https"
	}
	return cfg
}

// launchMember starts member i without waiting for it to join. A member
// that is restarted finds its cluster in its data dir and ignores state.
func (e *Etcd) launchMember(i int, state string) error {
	m := e.members[i]
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		return fmt.Errorf("etcd member %s: %w", m.name, err)
	}
	lg, logFile, err := newFileLogger(m.logPath())
	if err != nil {
		return fmt.Errorf("etcd member %s: %w", m.name, err)
	}
	srv, err := embed.StartEtcd(e.memberConfig(i, state, lg))
	if err != nil {
		logFile.Close()
		return fmt.Errorf("etcd member %s: %w", m.name, err)
	}
	m.srv, m.log = srv, logFile
	return nil
}

// waitMember waits until the launched member i is ready to serve clients,
// which needs a quorum; if it does not get there, it is stopped.
func (e *Etcd) waitMember(ctx context.Context, i int) error {
	m := e.members[i]
	ctx, cancel := context.WithTimeout(ctx, etcdReadyTimeout)
	defer cancel()
	var err error
	select {
	case <-m.srv.Server.ReadyNotify():
		return nil
	case err = <-m.srv.Err():
	case <-ctx.Done():
		err = ctx.Err()
	}
	e.stopMember(i, true)
	return fmt.Errorf("etcd member %s not ready: %w\n%s", m.name, err, logTail(m.logPath(), 0))
}

func (m *etcdMember) logPath() string { return filepath.Join(m.dir, "etcd.log") }

// newFileLogger returns an error-level zap logger writing to path.
func newFileLogger(path string) (*zap.Logger, *os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open log: %w", err)
	}
	core := zapcore.NewCore(
		zapcore.NewConsoleEncoder(zap.NewProductionEncoderConfig()),
		zapcore.Lock(f),
		zapcore.ErrorLevel,
	)
	// A goroutine that logs after the file is closed must not complain on
	// the test's stderr.
	return zap.New(core, zap.ErrorOutput(zapcore.AddSync(io.Discard))), f, nil
}

// stopMember closes member i if it runs; e.mu must be held or e not yet
// shared. A hard stop skips the leadership hand-over.
func (e *Etcd) stopMember(i int, hard bool) {
	m := e.members[i]
	if m.srv == nil {
		return
	}
	if hard {
		// With the raft loop gone first, Close's attempt to hand over the
		// leadership returns at once, since the server's context is done.
		m.srv.Server.HardStop()
	}
	m.srv.Close()
	m.log.Close()
	m.srv, m.log = nil, nil
}

// Members is the number of members, running or not.
func (e *Etcd) Members() int { return len(e.members) }

// Endpoints returns the client address ("127.0.0.1:PORT") of every member,
// stopped ones included, in member order; clientv3.Config.Endpoints accepts
// them as they are.
func (e *Etcd) Endpoints() []string {
	eps := make([]string, len(e.members))
	for i, m := range e.members {
		eps[i] = m.clientURL.Host
	}
	return eps
}

// Endpoint returns member i's client address, "127.0.0.1:PORT".
func (e *Etcd) Endpoint(i int) string { return e.members[i].clientURL.Host }

// NewClient returns a client for all members. The caller closes it, before
// Close: the server waits for open watch streams when it shuts down.
func (e *Etcd) NewClient() (*clientv3.Client, error) {
	c, err := clientv3.New(clientv3.Config{
		Endpoints:   e.Endpoints(),
		DialTimeout: etcdDialTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	return c, nil
}

// Client returns a client for all members that is closed when tb ends.
func (e *Etcd) Client(tb testing.TB) *clientv3.Client {
	tb.Helper()
	c, err := e.NewClient()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// StopMember shuts member i down as etcd does on SIGTERM, keeping its data
// dir and ports: a leader first hands its leadership to another member, so
// the cluster has a new leader by the time StopMember returns. Stopping a
// stopped member does nothing.
func (e *Etcd) StopMember(i int) error {
	return e.stop("stop", i, false)
}

// KillMember stops member i abruptly, keeping its data dir and ports: a
// leader does not hand over its leadership, so the other members find out
// through missed heartbeats and elect a new leader after an election timeout,
// as after a crash. (Its files are still closed cleanly.)
func (e *Etcd) KillMember(i int) error {
	return e.stop("kill", i, true)
}

func (e *Etcd) stop(verb string, i int, hard bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if i < 0 || i >= len(e.members) {
		return fmt.Errorf("%s etcd member %d: out of range", verb, i)
	}
	e.stopMember(i, hard)
	return nil
}

// StartMember starts member i again on its data dir and ports and waits until
// it has rejoined the cluster, which needs a quorum of running members.
func (e *Etcd) StartMember(ctx context.Context, i int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("start etcd member: closed")
	}
	if i < 0 || i >= len(e.members) {
		return fmt.Errorf("start etcd member %d: out of range", i)
	}
	if e.members[i].srv != nil {
		return nil
	}
	if err := e.launchMember(i, embed.ClusterStateFlagExisting); err != nil {
		return err
	}
	return e.waitMember(ctx, i)
}

// Running reports whether member i runs.
func (e *Etcd) Running(i int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.members[i].srv != nil
}

// Leader returns the index of the running member that considers itself the
// leader, or -1 if none does right now.
func (e *Etcd) Leader() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runningMember(e.leaderID())
}

// leaderID is the raft ID of a running member that considers itself the
// leader, or 0.
func (e *Etcd) leaderID() types.ID {
	for _, m := range e.members {
		if m.srv != nil && m.srv.Server.Leader() == m.srv.Server.MemberID() {
			return m.srv.Server.MemberID()
		}
	}
	return 0
}

// WaitLeader waits until every running member agrees on a leader that is
// itself running, and returns its index.
func (e *Etcd) WaitLeader(ctx context.Context) (int, error) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if i := e.agreedLeader(); i >= 0 {
			return i, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("wait for etcd leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func (e *Etcd) agreedLeader() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	leader := -1
	for _, m := range e.members {
		if m.srv == nil {
			continue
		}
		j := e.runningMember(m.srv.Server.Leader())
		if j < 0 || (leader >= 0 && leader != j) {
			return -1
		}
		leader = j
	}
	return leader
}

// runningMember returns the index of the running member with the given raft
// ID, or -1.
func (e *Etcd) runningMember(id types.ID) int {
	for i, m := range e.members {
		if m.srv != nil && m.srv.Server.MemberID() == id {
			return i
		}
	}
	return -1
}

// StopAll shuts every running member down, keeping data dirs and ports, as
// when the whole cluster goes down: clients get no answer until StartAll.
func (e *Etcd) StopAll() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("stop etcd: closed")
	}
	e.stopAllLocked()
	return nil
}

// StartAll starts every stopped member again on its data dir and ports and
// waits until each has rejoined. The members are all launched before any is
// waited for, since none serves until a quorum runs.
func (e *Etcd) StartAll(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("start etcd: closed")
	}
	var started []int
	for i, m := range e.members {
		if m.srv != nil {
			continue
		}
		if err := e.launchMember(i, embed.ClusterStateFlagExisting); err != nil {
			return err
		}
		started = append(started, i)
	}
	for _, i := range started {
		if err := e.waitMember(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// stopAllLocked stops every running member; e.mu must be held.
func (e *Etcd) stopAllLocked() {
	// A member's shutdown waits up to a second for the peer connections of
	// the members still running, so the followers stop together. The leader
	// goes last: stopped earlier, it would first try, for seconds, to hand
	// its leadership to members that are shutting down.
	leader := e.runningMember(e.leaderID())
	var wg sync.WaitGroup
	for i := range e.members {
		if i != leader {
			wg.Go(func() { e.stopMember(i, false) })
		}
	}
	wg.Wait()
	if leader >= 0 {
		e.stopMember(leader, false)
	}
}

// Close stops every member and removes the data dirs. It is safe to call more
// than once.
func (e *Etcd) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.stopAllLocked()
	if err := e.root.remove(); err != nil {
		return fmt.Errorf("close etcd: %w", err)
	}
	return nil
}
