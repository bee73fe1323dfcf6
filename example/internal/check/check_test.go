package check

import (
	"context"
	"database/sql"
	"testing"

	"github.com/mysqletcd/mysqletcd"
	"github.com/mysqletcd/mysqletcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestDiffFollowsTheValueRules writes rows and keys by hand, without the
// driver, and checks that Diff accepts the values the mapping rules give
// and reports every other difference.
func TestDiffFollowsTheValueRules(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("mysql", testenv.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE things (id INT UNSIGNED PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE, price DECIMAL(8,2),
			ratio DOUBLE, at DATETIME(3), day DATE, raw VARBINARY(8), flags BIT(8), doc JSON, note TEXT, gone DATETIME)`,
		`INSERT INTO things VALUES
			(1, 'a/b', 9.50, 0.25, '2024-05-06 07:08:09.123', '2024-05-06', x'00ff', b'101', '{"k": [1, "x"]}', NULL, NULL),
			(2, 'two', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'hi', NULL),
			(3, 'three', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2024-01-01 00:00:00')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	cli := testenv.EtcdClient(t)
	cfg := mysqletcd.Config{
		FencePrefix: "/c/_f",
		Tables: []mysqletcd.Mapping{
			{Table: "things", Key: "/c/things/{id}", Columns: []string{"id", "name", "price", "ratio", "at", "day", "raw", "flags", "doc", "note"}, Where: "gone IS NULL"},
			{Table: "things", Key: "/c/by-name/{name}", Value: mysqletcd.ColumnValue("note")},
		},
	}
	put := map[string]string{
		"/c/things/1": `{"id":1,"name":"a/b","price":"9.50","ratio":0.25,"at":"2024-05-06T07:08:09.123Z","day":"2024-05-06",` +
			`"raw":"AP8=","flags":5,"doc":{"k":[1,"x"]},"note":null}`,
		"/c/things/2":      `{"id":2,"name":"two","price":null,"ratio":null,"at":null,"day":null,"raw":null,"flags":null,"doc":null,"note":"hi"}`,
		"/c/by-name/a%2Fb": "",
		"/c/by-name/two":   "hi",
		"/c/by-name/three": "",
	}
	for k, v := range put {
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	assertDiff(t, db, cfg)

	// Each kind of difference, one at a time.
	cli.Put(ctx, "/c/things/2", `{"id":2,"name":"two","price":null,"ratio":null,"at":null,"day":null,"raw":null,"flags":null,"doc":null,"note":"ho"}`)
	cli.Put(ctx, "/c/things/3", `{}`)
	cli.Delete(ctx, "/c/by-name/two")
	assertDiff(t, db, cfg, "missing /c/by-name/two", "orphan  /c/things/3", "stale   /c/things/2")
}

func assertDiff(t *testing.T, db *sql.DB, cfg mysqletcd.Config, want ...string) {
	t.Helper()
	got, err := Diff(context.Background(), db, testenv.EtcdClient(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Diff = %q, want %q", got, want)
	}
	for i := range got {
		if len(got[i]) < len(want[i]) || got[i][:len(want[i])] != want[i] {
			t.Fatalf("Diff = %q, want %q", got, want)
		}
	}
}
