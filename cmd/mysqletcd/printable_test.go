package main

import (
	"strings"
	"testing"
)

func TestShortValueEscapesAndCuts(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"", 10, `""`},
		{`{"id":1}`, 10, `{"id":1}`},
		{"héllo wörld", 64, "héllo wörld"},
		{"a\nb\tc\x00d", 64, `a\nb\tc\x00d`},
		{"\x1b[31mred", 64, `\x1b[31mred`},
		{"bad\xff\xfeutf8", 64, `bad\xff\xfeutf8`},
		{"zero\u200bwidth", 64, `zero\u200bwidth`},
		{strings.Repeat("x", 70), 64, strings.Repeat("x", 64) + "… (70 bytes)"},
		{"abcdefgh\x00", 9, `abcdefgh… (9 bytes)`}, // an escape is not cut in half
		{strings.Repeat("é", 70), 64, strings.Repeat("é", 64) + "… (140 bytes)"},
		{strings.Repeat("y", 200), -1, strings.Repeat("y", 200)},
	} {
		if got := shortValue([]byte(tc.in), tc.width); got != tc.want {
			t.Errorf("shortValue(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestRedactSecrets(t *testing.T) {
	for _, tc := range []struct {
		msg     string
		secrets []string
		want    string
	}{
		{"connect root:hunter2@tcp(h)/db: refused", []string{"hunter2"}, "connect root:***@tcp(h)/db: refused"},
		{"bad value hunter2 in x", []string{"hunter2"}, "bad value *** in x"},
		{"a:pw@tcp(h)/db: password: YES", []string{"pw"}, "a:***@tcp(h)/db: password: YES"}, // short: only in a DSN
		{"nothing to hide", nil, "nothing to hide"},
	} {
		if got := redactSecrets(tc.msg, tc.secrets); got != tc.want {
			t.Errorf("redactSecrets(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestDSNPassword(t *testing.T) {
	for dsn, want := range map[string]string{
		"user:pw@tcp(h:3306)/db":                         "pw",
		"user:p@ss/w:rd@tcp(h:3306)/db?x=1":              "p@ss/w:rd",
		"user@tcp(h)/db":                                 "",
		"user:pw@tcp(h)/db?mysqletcd-config=/etc/m.yaml": "pw",
		"user:pw@tcp(h":                                  "pw",
		"":                                               "",
	} {
		if got := dsnPassword(dsn); got != want {
			t.Errorf("dsnPassword(%q) = %q, want %q", dsn, got, want)
		}
	}
}
