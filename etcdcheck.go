package mysqletcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/connectivity"
)

// The first connection checks that etcd accepts the driver: its TLS setup,
// its credentials and the permissions of its role on every key prefix it
// uses. A mistake there would otherwise show only as pushes that fail for
// ever, TLS ones as bare timeouts, while the app's writes succeed. The
// check fails the open with ErrEtcdAccess and the fix. An etcd that does
// not answer is not an access error: the open goes on and the pushes wait
// for it, as they do when etcd goes down later.

// probeChunk is the number of probes per Txn: one compare and two
// operations each, under etcd's default limit of 128 operations.
const probeChunk = 30

// accessProbe is one key or key range the driver reads and writes, and the
// prefix a role needs readwrite on for it.
type accessProbe struct {
	key    string
	prefix bool // the range of keys starting with key
	grant  string
}

// accessProbes lists every key and key range the driver touches.
func (s *syncer) accessProbes(mappings []*mapping) []accessProbe {
	fences := s.cfg.FencePrefix + "/"
	var out []accessProbe
	for _, m := range mappings {
		out = append(out,
			accessProbe{key: m.tmpl.prefix, prefix: true, grant: m.tmpl.prefix},
			accessProbe{key: s.fenceKey(m.tmpl.prefix), prefix: true, grant: fences},
			accessProbe{key: m.epochKey, grant: fences},
			accessProbe{key: m.gcMarkKey, grant: fences})
	}
	if s.cfg.ReconcileEvery > 0 {
		out = append(out,
			accessProbe{key: s.electionPrefix() + "/", prefix: true, grant: fences},
			accessProbe{key: s.lastRunKey(), grant: fences})
	}
	return out
}

// probeTxn reads and writes the probes' keys in a Txn whose compares never
// hold, so it writes nothing; etcd checks the permissions of both branches
// before it evaluates the compares.
func (s *syncer) probeTxn(ctx context.Context, probes []accessProbe) error {
	cmps := make([]clientv3.Cmp, 0, len(probes))
	ops := make([]clientv3.Op, 0, 2*len(probes))
	for _, p := range probes {
		get := []clientv3.OpOption{clientv3.WithKeysOnly(), clientv3.WithLimit(1)}
		if p.prefix {
			get = append(get, clientv3.WithPrefix())
		}
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(p.key), "<", 0))
		ops = append(ops, clientv3.OpGet(p.key, get...), clientv3.OpPut(p.key, ""))
	}
	_, err := s.etcd.Txn(ctx).If(cmps...).Then(ops...).Commit()
	return err
}

// checkAccess runs the probes of the mappings, bounded by the dial timeout.
func (s *syncer) checkAccess(parent context.Context, mappings []*mapping) error {
	ctx, cancel := context.WithTimeout(parent, s.cfg.Etcd.DialTimeout)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { cancelOnConnFailure(ctx, cancel, s.etcd) })

	probes := s.accessProbes(mappings)
	var err error
	for start := 0; start < len(probes) && err == nil; start += probeChunk {
		err = s.probeTxn(ctx, probes[start:min(start+probeChunk, len(probes))])
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return s.deniedProbe(ctx, probes, err)
	case errors.Is(err, rpctypes.ErrUserEmpty):
		return fmt.Errorf("%w: etcd has auth on and the driver gives no user: set etcd.username and etcd.password, or give a client certificate (etcd.tls) whose common name is an etcd user", ErrEtcdAccess)
	case errors.Is(err, rpctypes.ErrAuthFailed):
		return fmt.Errorf("%w: etcd auth as user %q: %w: check etcd.username and etcd.password", ErrEtcdAccess, s.cfg.Etcd.Username, err)
	}
	if parent.Err() != nil {
		return parent.Err()
	}
	if p := diagnoseTransport(parent, s.cfg.Etcd); errors.Is(p, ErrEtcdAccess) {
		return p
	} else if p != nil {
		err = p
	}
	s.cfg.Logger.Warn("mysqletcd: etcd does not answer; writes go on and their keys are pushed once it does",
		"endpoints", s.cfg.Etcd.Endpoints, "err", err)
	return nil
}

// deniedProbe finds the first probe etcd denies, to name its prefix.
func (s *syncer) deniedProbe(ctx context.Context, probes []accessProbe, denied error) error {
	user := s.cfg.Etcd.Username
	if user == "" {
		user = "of the client certificate"
	} else {
		user = fmt.Sprintf("%q", user)
	}
	for _, p := range probes {
		if err := s.probeTxn(ctx, []accessProbe{p}); errors.Is(err, rpctypes.ErrPermissionDenied) {
			return fmt.Errorf("%w: etcd user %s may not read and write %s: %w: give its role readwrite on the prefix %s "+
				"(etcdctl role grant-permission <role> --prefix=true readwrite %s)", ErrEtcdAccess, user, p.key, err, p.grant, p.grant)
		}
	}
	return fmt.Errorf("%w: etcd user %s: %w", ErrEtcdAccess, user, denied)
}

// explainConnect looks into a failure to connect to etcd for a TLS mistake,
// which etcd's client reports as a bare timeout.
func explainConnect(ctx context.Context, ec EtcdConfig, err error) error {
	if errors.Is(err, ErrEtcdAccess) {
		return err
	}
	if p := diagnoseTransport(ctx, ec); errors.Is(p, ErrEtcdAccess) {
		return p
	}
	return err
}

// cancelOnConnFailure cancels the check as soon as the client's connection
// fails (refused, TLS handshake failed), instead of at the dial timeout: a
// request waits for a connection until its deadline, and then says no more
// than that it timed out.
func cancelOnConnFailure(ctx context.Context, cancel context.CancelFunc, cli *clientv3.Client) {
	conn := cli.ActiveConnection()
	for state := conn.GetState(); state != connectivity.TransientFailure; state = conn.GetState() {
		if !conn.WaitForStateChange(ctx, state) {
			return
		}
	}
	cancel()
}

// diagnoseTransport looks for what is behind a connection to etcd that
// failed. It connects to each endpoint as the client does, handshakes and
// reads the server's first frame, which is where a rejected client
// certificate shows (TLS 1.3 rejects it after the client's handshake). A
// TLS mistake comes back wrapping ErrEtcdAccess; otherwise the error of an
// endpoint that cannot be reached, or nil.
func diagnoseTransport(ctx context.Context, ec EtcdConfig) error {
	cfg, err := ec.tlsConfig()
	if err != nil {
		return err
	}
	var unreachable error
	for _, ep := range ec.Endpoints {
		scheme, host := splitEndpoint(ep)
		secure := scheme == "https" || (scheme == "" && cfg != nil)
		if scheme == "unix" || scheme == "unixs" || (scheme == "http" && cfg == nil) {
			continue
		}
		dialErr, tlsErr := handshake(ctx, host, cfg, secure)
		if tlsErr != nil {
			return fmt.Errorf("%w: TLS with etcd at %s: %w", ErrEtcdAccess, ep, tlsErr)
		}
		if unreachable == nil {
			unreachable = dialErr
		}
	}
	return unreachable
}

// handshake connects to host over TLS. When the client is not set up for
// TLS (secure false), it reports a server that speaks TLS anyway.
func handshake(ctx context.Context, host string, cfg *tls.Config, secure bool) (dialErr, tlsErr error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		return err, nil
	}
	defer raw.Close()
	if deadline, ok := ctx.Deadline(); ok {
		raw.SetDeadline(deadline)
	}
	if !secure {
		// It verifies nothing and sends nothing after the handshake: it only
		// asks whether the server speaks TLS.
		c := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if c.HandshakeContext(ctx) == nil {
			return nil, errors.New("etcd serves TLS there and the driver does not speak it: set etcd.tls (ca, and cert and key if etcd wants client certificates), or use https:// endpoints")
		}
		return nil, nil
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"h2"}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(host)
	}
	c := tls.Client(raw, cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		var verify *tls.CertificateVerificationError
		var notTLS tls.RecordHeaderError
		switch {
		case errors.As(err, &verify):
			return nil, fmt.Errorf("%w: check etcd.tls.ca: it must hold the authority that signed etcd's certificate, for the name or address of the endpoint", err)
		case errors.As(err, &notTLS), errors.Is(err, io.EOF):
			return nil, fmt.Errorf("etcd does not speak TLS there (%w): remove etcd.tls, or use an endpoint where etcd serves TLS", err)
		case isAlert(err):
			return nil, fmt.Errorf("etcd refused the handshake (%w): check etcd.tls.cert and etcd.tls.key", err)
		}
		return err, nil // a timeout or a reset: not a TLS mistake
	}
	// An HTTP/2 client preface makes the server answer with its settings;
	// a rejected client certificate makes it answer with an alert instead.
	_, err = c.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
	if err == nil {
		_, err = c.Read(make([]byte, 1))
	}
	if isAlert(err) {
		return nil, fmt.Errorf("etcd refused the client certificate (%w): set etcd.tls.cert and etcd.tls.key to a certificate that etcd's trusted authority signed", err)
	}
	return nil, nil
}

// isAlert reports a TLS alert from the server, such as "remote error: tls:
// certificate required".
func isAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// splitEndpoint splits "https://host:port" into its scheme and host; an
// endpoint without a scheme has an empty one.
func splitEndpoint(ep string) (scheme, host string) {
	if !strings.Contains(ep, "://") {
		return "", ep
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", ep
	}
	return u.Scheme, u.Host
}
