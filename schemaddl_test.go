package mysqletcd

import (
	"github.com/prometheus/client_golang/prometheus/testutil"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncLog collects log records and OnError calls for a test.
type syncLog struct {
	syncBuffer
	mu   sync.Mutex
	errs []error
}

func (l *syncLog) onError(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *syncLog) errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func logTo(e *env) *syncLog {
	l := &syncLog{}
	e.cfg.Logger = slog.New(slog.NewTextHandler(l, nil))
	e.cfg.OnError = l.onError
	return l
}

// An app that opens the driver first and creates its schema through it
// (AutoMigrate, migrations) works on an empty database.
func TestAMappingWhoseTableDoesNotExistYetStartsWorkingWhenDDLCreatesIt(t *testing.T) {
	e := newEnv(t, "DO 1", usersMappings()...)
	log := logTo(e)
	db, c := e.open(nil)
	if err := db.Ping(); err != nil {
		t.Fatalf("Ping = %v; a missing table is a warning", err)
	}
	if !strings.Contains(log.String(), "does not exist yet") {
		t.Errorf("no warning logged: %q", log.String())
	}
	mustExec(t, db, usersTable)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')")
	e.converged()
	if len(c.Stats().Fallbacks) != 0 && c.Stats().MappingErrors != 0 {
		t.Errorf("stats: %+v", c.Stats())
	}
}

func TestStrictMakesAMissingTableAnError(t *testing.T) {
	e := newEnv(t, "DO 1", usersMappings()...)
	e.cfg.Strict = true
	db, _ := e.open(nil)
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Ping = %v, want the missing table", err)
	}
}

// A table created behind the driver's back is found when the next
// connection opens.
func TestATableCreatedElsewhereIsFoundAtTheNextConnection(t *testing.T) {
	e := newEnv(t, "DO 1", usersMappings()...)
	db, _ := e.open(nil)
	db.SetMaxIdleConns(0)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	e.exec(usersSchema)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x')")
	e.converged()
}

// DDL through the driver on a mapped table: what still works keeps working
// with a resync; what no longer can is reported, never failing the DDL.
func TestDDLOnAMappedTableRevalidatesItsMappings(t *testing.T) {
	e := newEnv(t, usersSchema,
		Mapping{Table: "users", Key: "{p}/users/{id}", Value: JSONValue},                                    // all columns
		Mapping{Table: "users", Key: "{p}/emails/{id}", Value: JSONValue, Columns: []string{"id", "email"}}, // names email
	)
	log := logTo(e)
	db, c := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	e.converged()

	mustExec(t, db, "ALTER TABLE users ADD COLUMN team VARCHAR(8) NOT NULL DEFAULT 'red'")
	e.converged() // every JSON value of the first mapping gained "team"

	if _, err := db.Exec("ALTER TABLE users CHANGE email mail VARCHAR(128) NULL"); err != nil {
		t.Fatalf("the app's DDL failed: %v", err)
	}
	mustExec(t, db, "UPDATE users SET mail = 'new', team = 'blue' WHERE id = 1")
	e.flush()
	if n := testutil.ToFloat64(c.pipe.metrics.broken.WithLabelValues("users")); n == 0 {
		t.Errorf("mysqletcd_mapping_errors_total{table=users} = %v, want > 0", n)
	}
	if c.Stats().MappingErrors == 0 || !strings.Contains(log.errors(), `tables[1].columns: column "email"`) {
		t.Fatalf("the broken mapping was not reported: stats %+v, errors %q", c.Stats(), log.errors())
	}
	users := e.etcdState()[e.prefix+"/users/1"]
	if users["team"] != "blue" || users["mail"] != "new" {
		t.Errorf("the mapping that still works stopped: %v", users)
	}

	mustExec(t, db, "ALTER TABLE users CHANGE mail email VARCHAR(128) NULL") // fits again
	e.converged()
}

func TestRenameAndDropOfAMappedTable(t *testing.T) {
	e := newEnv(t, usersSchema, usersMappings()...)
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO users (id, name, email) VALUES (1, 'ann', 'a@x'), (2, 'bob', 'b@x')")
	e.converged()
	mustExec(t, db, "RENAME TABLE users TO users_old")
	e.flush()
	if n := len(e.etcdState()); n != 0 {
		t.Fatalf("%d keys left after the table was renamed away", n)
	}
	mustExec(t, db, "RENAME TABLE users_old TO users")
	e.converged()
	mustExec(t, db, "UPDATE users SET email = 'back' WHERE id = 2")
	e.converged()
	mustExec(t, db, "DROP TABLE users")
	e.flush()
	if n := len(e.etcdState()); n != 0 {
		t.Fatalf("%d keys left after the table was dropped", n)
	}
	mustExec(t, db, usersTable)
	mustExec(t, db, "INSERT INTO users (id, name) VALUES (3, 'cy')")
	e.converged()
}

// A unique key added through the driver is known to the upsert planner at
// once: an upsert conflicting on it updates the existing row's keys.
func TestAUniqueKeyAddedThroughTheDriverIsKnownToUpserts(t *testing.T) {
	e := newEnv(t, `CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, email VARCHAR(64) NOT NULL, plan VARCHAR(8) NOT NULL)`,
		Mapping{Table: "accounts", Key: "{p}/accounts/{id}", Value: JSONValue})
	db, _ := e.open(nil)
	mustExec(t, db, "INSERT INTO accounts VALUES (1, 'a@x', 'free')")
	mustExec(t, db, "ALTER TABLE accounts ADD UNIQUE KEY email_uq (email)")
	mustExec(t, db, "INSERT INTO accounts VALUES (2, 'a@x', 'pro') ON DUPLICATE KEY UPDATE plan = VALUES(plan)")
	e.converged()
}

// usersTable is usersSchema's users table alone.
var usersTable = strings.Split(usersSchema, ";")[0]
