package mysqletcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// With etcd username and password set, etcd's client logs in while it
// connects. An etcd that is down when the app starts must not make the
// database unusable: the first connection opens, writes commit, and the
// keys reach etcd once it is back.
func TestEtcdWithAuthDownAtOpenDoesNotFailTheDatabase(t *testing.T) {
	ec := privateEtcd(t)
	e := newEnv(t, usersSchema, usersMappings()...)
	root := enableAuth(t, ec.Client(t), clientv3.Config{Endpoints: ec.Endpoints()})
	addEtcdUser(t, root, "app", "app-pw", e.prefix+"/")
	e.etcd = root
	e.cfg.Etcd = EtcdConfig{Endpoints: ec.Endpoints(), Username: "app", Password: "app-pw", DialTimeout: time.Second}
	if err := ec.StopAll(); err != nil {
		t.Fatal(err)
	}
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	mustExec(t, db, "DELETE FROM users WHERE id = 2")
	if err := ec.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.converged()
	if st := c.Stats(); st.Puts == 0 {
		t.Errorf("stats: %+v", st)
	}
}
