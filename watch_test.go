package mysqletcd

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

func TestUnchangedValuesMakeNoWatchEvents(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email, age) VALUES (1, 'ann', 'a@x', 30)")
	e.converged()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := e.etcd.Watch(ctx, e.prefix+"/users/", clientv3.WithPrefix())
	mustExec(t, db, "UPDATE users SET email = 'a@x' WHERE id = 1")     // same value
	mustExec(t, db, "UPDATE users SET deleted_at = NULL WHERE id = 1") // not a mapped column
	mustExec(t, db, "UPDATE users SET age = 30 WHERE name = 'ann'")    // before-image path, same value
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (1, 'x') ON DUPLICATE KEY UPDATE age = 30")
	e.flush()
	mustExec(t, db, "UPDATE users SET age = 31 WHERE id = 1") // a real change, as a marker
	e.flush()
	select {
	case ev := <-events:
		if len(ev.Events) != 1 || string(ev.Events[0].Kv.Value) != `{"id":1,"name":"ann","email":"a@x","age":31}` {
			t.Fatalf("first watch event = %v, want only the age change", ev.Events)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event for the real change")
	}
}
