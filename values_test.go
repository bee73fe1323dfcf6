package mysqletcd

import (
	"context"
	"testing"
)

func TestJSONValuesKeepTheirTypes(t *testing.T) {
	e := newEnv(t, `CREATE TABLE typed (
		id INT NOT NULL PRIMARY KEY, big BIGINT UNSIGNED, dec1 DECIMAL(10,2), dbl DOUBLE, txt VARCHAR(20),
		bin VARBINARY(4), dt DATETIME(3), d DATE, j JSON, flag BIT(1), nothing INT NULL)`,
		Mapping{Table: "typed", Key: "{p}/typed/{id}"})
	db, _ := e.open(nil)
	mustExec(t, db, `INSERT INTO typed VALUES (1, 18446744073709551615, 12.50, 2.5, 'a"b', 0x00ff, '2024-01-02 03:04:05.678', '2024-01-02', '{"k": [1, 2]}', b'1', NULL)`)
	e.flush()
	resp, err := e.etcd.Get(context.Background(), e.prefix+"/typed/1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get: %v %v", resp, err)
	}
	want := `{"id":1,"big":18446744073709551615,"dec1":"12.50","dbl":2.5,"txt":"a\"b","bin":"AP8=","dt":"2024-01-02T03:04:05.678Z","d":"2024-01-02","j":{"k":[1,2]},"flag":1,"nothing":null}`
	if got := string(resp.Kvs[0].Value); got != want {
		t.Errorf("value =\n%s\nwant\n%s", got, want)
	}
}

func TestKeyTextNormalizesIntegersLikeTheServer(t *testing.T) {
	intCol := column{dataType: "int"}
	strCol := column{dataType: "varchar"}
	tests := []struct {
		c    column
		v    any
		want string
	}{
		{intCol, "007", "7"},
		{intCol, []byte("42"), "42"},
		{intCol, int64(-3), "-3"},
		{intCol, uint64(1 << 63), "9223372036854775808"},
		{intCol, float64(5), "5"},
		{strCol, "007", "007"},
		{strCol, []byte("a/b"), "a/b"},
	}
	for _, tt := range tests {
		if got := keyText(tt.c, tt.v); got != tt.want {
			t.Errorf("keyText(%s, %#v) = %q, want %q", tt.c.dataType, tt.v, got, tt.want)
		}
	}
}
