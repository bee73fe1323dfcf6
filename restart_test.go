package mysqletcd

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

// A pool that outlives a database restart keeps working, as with the plain
// driver: database/sql retries a statement whose connection died
// (driver.ErrBadConn) on a new one, and etcd converges.
func TestAPoolSurvivesADatabaseRestart(t *testing.T) {
	ctx := context.Background()
	server, err := testenv.StartMariaDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	dsn, err := server.CreateDatabase(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dsn: dsn, etcd: testenv.EtcdClient(t), prefix: "/test/restart-" + itoa(int(time.Now().UnixNano()%1e9))}
	mc, _ := mysql.ParseDSN(dsn)
	plainConn, _ := mysql.NewConnector(mc)
	e.plain = sql.OpenDB(plainConn)
	defer e.plain.Close()
	e.exec(usersTable)
	maps := usersMappings()
	for i := range maps {
		maps[i].Key = e.prefix + maps[i].Key[len("{p}"):]
	}
	e.cfg = Config{Etcd: EtcdConfig{Endpoints: testenv.EtcdEndpoints(t)}, Tables: maps, FencePrefix: e.prefix + "/_f"}
	db, _ := e.open(nil)
	db.SetMaxIdleConns(4)
	for i := 1; i <= 4; i++ { // several pooled connections
		mustExec(t, db, "INSERT INTO users (id, name) VALUES (?, ?)", i, "n"+itoa(i))
	}
	e.converged()
	if err := server.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if _, err := db.Exec("UPDATE users SET email = ? WHERE id = ?", "after", i); err != nil {
			t.Fatalf("write %d after the restart: %v", i, err)
		}
	}
	mustExec(t, db, "UPDATE users SET email = 'x' WHERE name = 'n2'") // a before-image form
	e.converged()
}
