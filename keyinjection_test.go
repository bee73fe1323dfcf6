package mysqletcd

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Row values are data, not key syntax: whatever a value holds, its key stays
// inside its mapping's prefix and shape, no two rows share a key, and the
// reconciler parses the key back into the row's values.

// injectionTemplates are templates that Validate accepts together: none can
// give a key another can give.
var injectionTemplates = []string{
	"/app/users/{id}",
	"/app/users/{id}/profile",
	"/app/users-by-name/{name}",
	"/t/{tenant}/u/{id}",
	"/t/{tenant}/g/{id}.json",
	"/m/{a}/x{b}.y/{c}",
	"/r/{a}/{a}",
	"rel/{a}",
}

// injectionPieces are the parts random values are made of: key syntax, URL
// escapes, control bytes, unicode, invalid UTF-8.
var injectionPieces = []string{
	"/", "//", ".", "..", "../", "/..", "%", "%2F", "%2f", "%25", "%00", "%zz", "%2E%2E",
	"\x00", "\n", "\r", "\t", " ", "{", "}", "{id}", "{a}/{b}", "+", "?", "#", "&", "=", ";", ",", "\\",
	"é", "日本", "\U0001F600", "\u202e", "\ufeff", "\xff", "\xc3", "_mysqletcd", "fence", "epoch",
	"a", "B", "z9", "-", "_", "~", "app", "users", "profile", "x", ".y", ".json",
}

// randomValue is an empty string, a very long one, or a few pieces.
func randomValue(r *rand.Rand) string {
	switch r.IntN(20) {
	case 0:
		return ""
	case 1:
		return strings.Repeat(injectionPieces[r.IntN(len(injectionPieces))], 200+r.IntN(2000))
	}
	var b strings.Builder
	for n := 1 + r.IntN(6); n > 0; n-- {
		b.WriteString(injectionPieces[r.IntN(len(injectionPieces))])
	}
	return b.String()
}

// checkKeyInjection renders vals with tmpls[i] and checks every property
// against all the templates.
func checkKeyInjection(t *testing.T, tmpls []*keyTemplate, i int, vals []string) string {
	t.Helper()
	tmpl := tmpls[i]
	key := tmpl.render(vals)
	if !strings.HasPrefix(key, tmpl.prefix) {
		t.Fatalf("%s with %q = %q: outside the prefix %q", tmpl.text, vals, key, tmpl.prefix)
	}
	if got, want := strings.Count(key, "/"), len(tmpl.segments)-1; got != want {
		t.Fatalf("%s with %q = %q: %d segments, want %d", tmpl.text, vals, key, got+1, want+1)
	}
	if strings.HasPrefix(key, "/_mysqletcd/") {
		t.Fatalf("%s with %q = %q: under the default fence-prefix", tmpl.text, vals, key)
	}
	back, ok := tmpl.parse(key)
	if !ok || !equalStrings(back, vals) {
		t.Fatalf("%s: parse(render(%q)) = %q, %v", tmpl.text, vals, back, ok)
	}
	for j, other := range tmpls {
		if j == i {
			continue
		}
		if v, ok := other.parse(key); ok {
			t.Fatalf("%s with %q = %q, which %s parses too, as %q", tmpl.text, vals, key, other.text, v)
		}
	}
	return key
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func parseTemplates(t testing.TB, texts []string) []*keyTemplate {
	t.Helper()
	cfg := Config{Etcd: EtcdConfig{Endpoints: []string{"x"}}}
	var out []*keyTemplate
	for _, text := range texts {
		tmpl, err := parseKeyTemplate(text)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tmpl)
		cfg.Tables = append(cfg.Tables, Mapping{Table: "t", Key: text})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("the templates do not validate together: %v", err)
	}
	return out
}

// TestKeyValuesCannotEscapeTheirKeyOrCollide renders many random values,
// made of key syntax and hostile bytes, with templates of every shape: each
// key keeps its template's prefix and shape, parses back to its values, is
// not of any other template's shape, and no two value tuples share a key.
func TestKeyValuesCannotEscapeTheirKeyOrCollide(t *testing.T) {
	tmpls := parseTemplates(t, injectionTemplates)
	r := rand.New(rand.NewPCG(20240501, 7))
	owner := map[string]string{} // key -> template and values that gave it
	for range 10000 {
		i := r.IntN(len(tmpls))
		vals := make([]string, len(tmpls[i].columns))
		for j := range vals {
			vals[j] = randomValue(r)
		}
		key := checkKeyInjection(t, tmpls, i, vals)
		who := fmt.Sprintf("%s %q", tmpls[i].text, vals)
		if prev, ok := owner[key]; ok && prev != who {
			t.Fatalf("%s and %s give the same key %q", prev, who, key)
		}
		owner[key] = who
	}
}

// Two tuples of a multi-column key that join to the same text must not give
// the same key: the '/' inside a value is escaped, the one between values
// is not.
func TestKeyValuesThatJoinAlikeGiveDistinctKeys(t *testing.T) {
	tmpl, _ := parseKeyTemplate("/m/{a}/{b}")
	pairs := [][2][]string{
		{{"x/y", "z"}, {"x", "y/z"}},
		{{"", "a/"}, {"/a", ""}},
		{{"..", "x"}, {"", "../x"}},
		{{"%2F", ""}, {"/", ""}},
		{{"a%", "2Fb"}, {"a", "%2Fb"}},
	}
	for _, p := range pairs {
		k1, k2 := tmpl.render(p[0]), tmpl.render(p[1])
		if k1 == k2 {
			t.Errorf("%q and %q both give %q", p[0], p[1], k1)
		}
	}
}

// A key that is not in the canonical escaped form, such as one written by
// hand, parses to values whose row renders another key: the reconciler
// finds it an orphan instead of taking it for the row's key.
func TestNonCanonicalKeyParsesToARowWithAnotherKey(t *testing.T) {
	tmpl, _ := parseKeyTemplate("/app/users/{name}")
	for _, key := range []string{"/app/users/a%2fb", "/app/users/%2E%2E", "/app/users/%61", "/app/users/a b", "/app/users/{x}"} {
		vals, ok := tmpl.parse(key)
		if !ok {
			continue
		}
		if again := tmpl.render(vals); again == key {
			t.Errorf("parse(%q) = %q renders the same key: the key is canonical", key, vals)
		}
	}
}

// Validate refuses a template that could give a key under fence-prefix,
// where the driver keeps its fences, epochs and election: a row whose
// first column held "_mysqletcd" would otherwise write there.
func TestKeyThatCouldReachTheFencePrefixIsRefused(t *testing.T) {
	tests := []struct {
		key, fence string
		refused    bool
	}{
		{"/{tenant}/users/{id}", "", true},
		{"/{a}/{b}/{c}/{d}", "/_mysqletcd", true},
		{"{a}/{b}/{c}", "", true}, // a = "" gives "/..."
		{"/_mysqletcd/{id}", "", true},
		{"/x/{a}/{b}", "/x/_f", true},
		{"/app/{tenant}/{id}", "/app/_f", true},
		{"/{tenant}.json/{id}", "", false}, // never "_mysqletcd"
		{"/x{a}/{id}", "", false},
		{"/{a}", "", false}, // one segment: never under "/_mysqletcd/"
		{"/app/users/{id}", "", false},
		{"/app/{tenant}/{id}", "/_mysqletcd", false},
		{"/{a}/{b}", "/%zz", false}, // "%zz" is no escaped value
	}
	for _, tt := range tests {
		cfg := Config{Etcd: EtcdConfig{Endpoints: []string{"x"}}, FencePrefix: tt.fence,
			Tables: []Mapping{{Table: "t", Key: tt.key}}}
		err := cfg.Validate()
		if refused := err != nil && strings.Contains(err.Error(), "fence-prefix"); refused != tt.refused {
			t.Errorf("key %q, fence-prefix %q: Validate() = %v, want refused %v", tt.key, tt.fence, err, tt.refused)
		}
	}
}

// FuzzKeyTemplate checks the properties of TestKeyValuesCannotEscapeTheirKeyOrCollide
// for fuzzed values, and that a fuzzed template which parses renders and
// parses back its values.
func FuzzKeyTemplate(f *testing.F) {
	f.Add("/app/users/{id}", "a/b", "..")
	f.Add("/m/{a}/x{b}.y", "%2F", "\x00\n")
	f.Add("{a}/{b}", "", "{b}")
	f.Add("/r/{a}/{a}", "日本", "\xff")
	tmpls := parseTemplates(f, injectionTemplates)
	f.Fuzz(func(t *testing.T, text, a, b string) {
		for i, tmpl := range tmpls {
			vals := []string{a, b, a + b}[:len(tmpl.columns)]
			checkKeyInjection(t, tmpls, i, vals)
		}
		tmpl, err := parseKeyTemplate(text)
		if err != nil {
			return
		}
		vals := make([]string, len(tmpl.columns))
		for i := range vals {
			vals[i] = []string{a, b}[i%2] + strings.Repeat("/", i)
		}
		key := tmpl.render(vals)
		if !strings.HasPrefix(key, tmpl.prefix) || strings.Count(key, "/") != len(tmpl.segments)-1 {
			t.Fatalf("%s with %q = %q: outside the prefix or shape", text, vals, key)
		}
		if back, ok := tmpl.parse(key); !ok || !equalStrings(back, vals) {
			t.Fatalf("%s: parse(render(%q)) = %q, %v", text, vals, back, ok)
		}
	})
}

// hostileKeysSchema has a text key and a multi-column key of binary, text
// and integer columns; nopad_bin keeps every distinct string distinct.
const hostileKeysSchema = `CREATE TABLE s (
	k VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY,
	v VARCHAR(20) NULL
) ENGINE=InnoDB;
CREATE TABLE m (
	a VARBINARY(300) NOT NULL,
	b VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
	n INT NOT NULL,
	v VARCHAR(20) NULL,
	PRIMARY KEY (a, b, n)
) ENGINE=InnoDB`

func hostileKeysMappings() []Mapping {
	return []Mapping{
		{Table: "s", Key: "{p}/s/{k}", Value: JSONValue},
		{Table: "m", Key: "{p}/m/{a}/x{b}.y/{n}", Value: ColumnValue("v")},
	}
}

// textValue is a random value that a utf8mb4 column can hold, at most max
// characters long.
func textValue(r *rand.Rand, max int) string {
	for {
		v := strings.ToValidUTF8(randomValue(r), "")
		if utf8.RuneCountInString(v) <= max {
			return v
		}
	}
}

// TestHostileKeyValuesConvergeAndReconcileWithoutDrift writes rows whose key
// columns hold key syntax and hostile bytes through the driver, with and
// without interpolateParams, then checks etcd against the database, and
// that a reconcile, which parses every key back, finds no drift.
func TestHostileKeyValuesConvergeAndReconcileWithoutDrift(t *testing.T) {
	e := newEnv(t, hostileKeysSchema, hostileKeysMappings()...)
	prepared, c := e.open(nil)
	interpolated, ci := e.open(func(mc *mysql.Config, _ *Config) { mc.InterpolateParams = true })
	r := rand.New(rand.NewPCG(99, 1))
	var keys []string
	var tuples [][]any
	for i := range 150 {
		db := []*sql.DB{prepared, interpolated}[i%2]
		k := textValue(r, 400)
		if _, err := db.Exec("INSERT INTO s (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)", k, fmt.Sprint(i)); err != nil {
			t.Fatalf("insert %q: %v", k, err)
		}
		keys = append(keys, k)
		a := []byte(randomValue(r))
		if len(a) > 300 {
			a = a[:300]
		}
		tuple := []any{a, textValue(r, 100), r.IntN(3)}
		if _, err := db.Exec("INSERT IGNORE INTO m (a, b, n, v) VALUES (?, ?, ?, ?)", append(tuple, fmt.Sprint(i))...); err != nil {
			t.Fatalf("insert %q: %v", tuple, err)
		}
		tuples = append(tuples, tuple)
	}
	for i := 0; i < len(keys); i += 3 {
		db := []*sql.DB{prepared, interpolated}[i%2]
		mustExec(t, db, "UPDATE s SET v = 'updated' WHERE k = ?", keys[i])
		mustExec(t, db, "UPDATE m SET v = 'updated' WHERE a = ? AND b = ? AND n = ?", tuples[i]...)
		mustExec(t, db, "DELETE FROM s WHERE k = ?", keys[i+1])
		mustExec(t, db, "DELETE FROM m WHERE a = ? AND b = ? AND n = ?", tuples[i+1]...)
		mustExec(t, db, "UPDATE s SET k = ? WHERE k = ?", textValue(r, 390)+"/moved"+fmt.Sprint(i), keys[i+2])
	}
	e.converged()
	var slashes, dots, controls, braces, binary int
	for _, kv := range e.etcdState() {
		slashes += boolInt(strings.Contains(kv["k"], "/"))
		dots += boolInt(strings.Contains(kv["k"], ".."))
		controls += boolInt(strings.ContainsAny(kv["k"], "\x00\n"))
		braces += boolInt(strings.ContainsAny(kv["k"], "{}"))
	}
	for _, tuple := range tuples {
		binary += boolInt(!utf8.Valid(tuple[0].([]byte)))
	}
	if slashes == 0 || dots == 0 || controls == 0 || braces == 0 || binary == 0 {
		t.Errorf("the values lack some syntax: %d with '/', %d '..', %d NUL or newline, %d braces, %d invalid UTF-8",
			slashes, dots, controls, braces, binary)
	}

	// Each connector looks rows up by the values it parses from the keys,
	// with and without interpolateParams.
	for _, c := range []*Connector{c, ci} {
		rep := reconcile(t, c, ReconcileOptions{DryRun: true})
		if rep.Drift() != 0 {
			t.Fatalf("reconcile after the writes: drift %d: %+v", rep.Drift(), rep.Mappings)
		}
		if got, want := rep.Mappings[0].KeysScanned+rep.Mappings[1].KeysScanned, int64(len(e.etcdState())); got != want {
			t.Errorf("reconcile parsed %d keys back, want all %d", got, want)
		}
	}

	// Keys that parse to a row's values without being its key: the
	// reconciler deletes them and keeps the row's own.
	ctx := context.Background()
	mustExec(t, prepared, "INSERT INTO s (k, v) VALUES ('a/b', 'x'), ('..', 'y')")
	e.flush()
	for _, k := range []string{"/s/a%2fb", "/s/%2E%2E", "/s/..%2F..%2Fplanted", "/m/%ff/x.y/00"} {
		if _, err := e.etcd.Put(ctx, e.prefix+k, "planted"); err != nil {
			t.Fatal(err)
		}
	}
	rep := reconcile(t, c, ReconcileOptions{})
	if rep.Mappings[0].Orphans != 3 || rep.Mappings[1].Orphans != 1 || rep.Drift() != 4 {
		t.Errorf("reconcile of planted keys: %+v", rep.Mappings)
	}
	e.converged()
	resp, err := e.etcd.Get(ctx, e.prefix+"/s/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil || resp.Count == 0 {
		t.Fatalf("keys under %s/s/: %v, %v", e.prefix, resp, err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
