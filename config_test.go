package mysqletcd

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseConfigReadsTheDocumentedFile(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
etcd:
  endpoints: [127.0.0.1:2379]
  dial-timeout: 3s
tables:
  - table: users
    key: /app/users/{id}
    value: json
    columns: [id, name, email]
    where: deleted_at IS NULL
  - table: app.users
    key: /app/users-by-name/{name}
    value: {column: email}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Etcd.DialTimeout != 3*time.Second || len(cfg.Tables) != 2 {
		t.Fatalf("cfg = %+v", cfg)
	}
	if cfg.Tables[0].Value != JSONValue || cfg.Tables[1].Value != ColumnValue("email") {
		t.Errorf("values = %+v, %+v", cfg.Tables[0].Value, cfg.Tables[1].Value)
	}
	if cfg.Tables[0].Where != "deleted_at IS NULL" || len(cfg.Tables[0].Columns) != 3 {
		t.Errorf("mapping 0 = %+v", cfg.Tables[0])
	}
}

func TestParseConfigRejectsUnknownFieldsAndValues(t *testing.T) {
	for text, want := range map[string]string{
		"etcd: {endpoint: [x]}":                                       "field endpoint not found",
		"tables: [{table: t, key: '/k/{id}', value: yaml}]":           `value "yaml": use "json" or {column: <name>}`,
		"tables: [{table: t, key: '/k/{id}', value: {columns: x}}]":   "field columns not found",
		"tables: [{table: t, key: '/k/{id}', value: {column: \"\"}}]": "needs a column name",
		"etcd: {endpoints: [x], dial-timeout: soon}":                  "cannot unmarshal",
	} {
		_, err := ParseConfig([]byte(text))
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrConfig) {
			t.Errorf("ParseConfig(%q) = %v, want ErrConfig containing %q", text, err, want)
		}
	}
}

func TestValidateNamesTheFieldAndTheFix(t *testing.T) {
	ok := Config{Etcd: EtcdConfig{Endpoints: []string{"x"}}, Tables: []Mapping{{Table: "t", Key: "/k/{id}"}}}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no endpoints", func(c *Config) { c.Etcd.Endpoints = nil }, "etcd.endpoints: is empty"},
		{"no tables", func(c *Config) { c.Tables = nil }, "tables: is empty"},
		{"no table name", func(c *Config) { c.Tables[0].Table = "" }, "tables[0].table: is empty"},
		{"bad key", func(c *Config) { c.Tables[0].Key = "/k/id" }, "tables[0].key:"},
		{"key under fences", func(c *Config) { c.Tables[0].Key = "/_mysqletcd/x/{id}" }, "fence-prefix"},
		{"overlap", func(c *Config) { c.Tables = append(c.Tables, Mapping{Table: "u", Key: "/k/{name}"}) }, "tables[1].key: \"/k/{name}\" can give the same key as tables[0].key"},
		{"batch too big", func(c *Config) { c.BatchSize = 100 }, "batch-size: is 100"},
		{"columns with column value", func(c *Config) {
			c.Tables[0].Value = ColumnValue("v")
			c.Tables[0].Columns = []string{"a"}
		}, "tables[0].columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			cfg.Tables = append([]Mapping(nil), ok.Tables...)
			tt.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrConfig) {
				t.Errorf("Validate() = %v, want ErrConfig containing %q", err, tt.want)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
