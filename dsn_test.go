package mysqletcd

import (
	"strings"
	"testing"
)

func TestSplitDSNRemovesOnlyTheDriversParameters(t *testing.T) {
	tests := []struct {
		dsn, wantDSN, wantConfig string
	}{
		{"app:pw@tcp(db:3306)/app?mysqletcd-config=/etc/app/m.yaml", "app:pw@tcp(db:3306)/app", "/etc/app/m.yaml"},
		{"app:pw@tcp(db:3306)/app?parseTime=true&mysqletcd-config=%2Ftmp%2Fa%20b.yaml&interpolateParams=true", "app:pw@tcp(db:3306)/app?interpolateParams=true&parseTime=true", "/tmp/a b.yaml"},
		{"root@unix(/run/mysqld.sock)/x?sql_mode=ANSI", "root@unix(/run/mysqld.sock)/x?sql_mode=ANSI", ""},
		{"u:p?w@tcp(h)/d?mysqletcd-config=/a.yaml&parseTime=true", "u:p?w@tcp(h:3306)/d?parseTime=true", "/a.yaml"},
	}
	for _, tt := range tests {
		mc, params, err := splitDSN(tt.dsn)
		if err != nil {
			t.Fatalf("%s: %v", tt.dsn, err)
		}
		if got := mc.FormatDSN(); got != tt.wantDSN {
			t.Errorf("splitDSN(%q) dsn = %q, want %q", tt.dsn, got, tt.wantDSN)
		}
		if params[DSNConfigParam] != tt.wantConfig {
			t.Errorf("splitDSN(%q) config = %q, want %q", tt.dsn, params[DSNConfigParam], tt.wantConfig)
		}
	}
}

func TestSplitDSNRejectsUnknownDriverParameters(t *testing.T) {
	_, _, err := splitDSN("u@tcp(h)/d?mysqletcd-confg=/x")
	if err == nil || !strings.Contains(err.Error(), `unknown parameter "mysqletcd-confg"`) {
		t.Errorf("err = %v", err)
	}
}

func TestConfigPathPrefersTheDSNOverTheEnvironment(t *testing.T) {
	t.Setenv(EnvConfig, "/from/env.yaml")
	if p, _ := configPath(map[string]string{DSNConfigParam: "/from/dsn.yaml"}); p != "/from/dsn.yaml" {
		t.Errorf("path = %q", p)
	}
	if p, _ := configPath(nil); p != "/from/env.yaml" {
		t.Errorf("path = %q", p)
	}
	t.Setenv(EnvConfig, "")
	if _, err := configPath(nil); err == nil || !strings.Contains(err.Error(), EnvConfig) {
		t.Errorf("err = %v", err)
	}
}
