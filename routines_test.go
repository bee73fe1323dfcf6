package mysqletcd

import "testing"

// A stored function that writes a mapped table, called from a SELECT (or
// DO, or an UPDATE of another table): the statement names no mapped table,
// and the table resyncs after commit.
func TestAStoredFunctionThatWritesAMappedTableIsCaptured(t *testing.T) {
	e := newEnv(t, `CREATE TABLE counters (name VARCHAR(16) PRIMARY KEY, n INT NOT NULL);
		CREATE TABLE visits (id INT AUTO_INCREMENT PRIMARY KEY, page VARCHAR(16) NOT NULL)`,
		Mapping{Table: "counters", Key: "{p}/counters/{name}", Value: ColumnValue("n")})
	e.exec(`CREATE FUNCTION bump(c VARCHAR(16)) RETURNS INT MODIFIES SQL DATA
		BEGIN
			INSERT INTO counters VALUES (c, 1) ON DUPLICATE KEY UPDATE n = n + 1;
			RETURN 1;
		END`)
	e.exec(`CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN 2 * x`) // reads nothing
	db, c := e.open(nil)
	var one int
	if err := db.QueryRow("SELECT bump('home')").Scan(&one); err != nil {
		t.Fatal(err)
	}
	e.converged()
	mustExec(t, db, "DO `bump`('about')")
	mustExec(t, db, "INSERT INTO visits (page) VALUES (IF(bump('home') = 1, 'home', 'x'))")
	tx, _ := db.Begin()
	tx.QueryRow("SELECT bump('tx')").Scan(&one)
	tx.Commit()
	e.converged()
	before := c.Stats().Fallbacks["table-level"]
	if err := db.QueryRow("SELECT twice(2)").Scan(&one); err != nil || one != 4 {
		t.Fatal(one, err)
	}
	if after := c.Stats().Fallbacks["table-level"]; after != before {
		t.Errorf("a function that writes nothing resynced a table")
	}
}

func TestCallsFunction(t *testing.T) {
	for text, want := range map[string]bool{
		"select bump('x')":       true,
		"select `bump` ( 1)":     true,
		"select db.bump(1)":      true,
		"select bumpy(1)":        false,
		"select rebump(1)":       false,
		"select bump from t":     false,
		"select 'bump' as x, 1":  false,
		"do x(bump(1))":          true,
		"select * from t_bump()": false,
	} {
		if got := callsFunction(text, "bump"); got != want {
			t.Errorf("callsFunction(%q) = %v, want %v", text, got, want)
		}
	}
}
