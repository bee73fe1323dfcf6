package mysqletcd

import (
	"fmt"
	"slices"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Pipelines in one process that talk to the same etcd cluster with the
// same credentials share one client (one gRPC connection and its
// goroutines), however many configs and DSNs they serve.
var etcdClients = struct {
	mu      sync.Mutex
	byIdent map[string]*sharedEtcd
}{byIdent: map[string]*sharedEtcd{}}

type sharedEtcd struct {
	cli  *clientv3.Client
	refs int
}

// identity names what makes two EtcdConfigs reach etcd the same way.
func (ec EtcdConfig) identity() string {
	eps := slices.Clone(ec.Endpoints)
	slices.Sort(eps)
	tls := ""
	if ec.TLS != nil {
		tls = ec.TLS.CA + "\x00" + ec.TLS.Cert + "\x00" + ec.TLS.Key
	}
	return fmt.Sprintf("%q %q %q %q %p %s", eps, ec.Username, ec.Password, tls, ec.TLSConfig, ec.DialTimeout)
}

// acquireEtcd returns a client for ec, shared with the other pipelines of
// the process that use the same cluster, and the function that releases it.
func acquireEtcd(ec EtcdConfig) (*clientv3.Client, func() error, error) {
	id := ec.identity()
	etcdClients.mu.Lock()
	sh := etcdClients.byIdent[id]
	if sh == nil {
		// Dial without the lock: it can take dial-timeout, and must not
		// hold up other pipelines' opens and closes.
		etcdClients.mu.Unlock()
		cli, err := newEtcdClient(ec)
		if err != nil {
			return nil, nil, err
		}
		etcdClients.mu.Lock()
		if sh = etcdClients.byIdent[id]; sh != nil {
			cli.Close() // another pipeline made one meanwhile
		} else {
			sh = &sharedEtcd{cli: cli}
			etcdClients.byIdent[id] = sh
		}
	}
	sh.refs++
	etcdClients.mu.Unlock()
	var once sync.Once
	release := func() error {
		var err error
		once.Do(func() {
			etcdClients.mu.Lock()
			defer etcdClients.mu.Unlock()
			sh.refs--
			if sh.refs == 0 {
				delete(etcdClients.byIdent, id)
				err = sh.cli.Close()
			}
		})
		return err
	}
	return sh.cli, release, nil
}
