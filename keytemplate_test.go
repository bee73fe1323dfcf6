package mysqletcd

import (
	"strings"
	"testing"
)

func TestKeyTemplateRendersEscapedValues(t *testing.T) {
	tests := []struct {
		tmpl string
		vals []string
		want string
	}{
		{"/app/users/{id}", []string{"7"}, "/app/users/7"},
		{"/app/users/{name}", []string{"a/b c%"}, "/app/users/a%2Fb%20c%25"},
		{"/t/{tenant}/u/{id}.json", []string{"acme", "42"}, "/t/acme/u/42.json"},
		{"/x/{a}/{a}", []string{"v"}, "/x/v/v"},
	}
	for _, tt := range tests {
		tmpl, err := parseKeyTemplate(tt.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		got := tmpl.render(tt.vals)
		if got != tt.want {
			t.Errorf("%s with %q = %q, want %q", tt.tmpl, tt.vals, got, tt.want)
		}
		back, ok := tmpl.parse(got)
		if !ok || strings.Join(back, "|") != strings.Join(tt.vals[:len(tmpl.columns)], "|") {
			t.Errorf("parse(%q) = %q, %v; want %q", got, back, ok, tt.vals)
		}
	}
}

func TestKeyTemplateParseRejectsOtherShapes(t *testing.T) {
	tmpl, _ := parseKeyTemplate("/app/users/{id}.json")
	for _, key := range []string{"/app/users/7", "/app/users/7.json/x", "/app/groups/7.json", "/app/users/%zz.json"} {
		if v, ok := tmpl.parse(key); ok {
			t.Errorf("parse(%q) = %q, want no match", key, v)
		}
	}
}

func TestKeyTemplateErrorsSayTheFix(t *testing.T) {
	tests := map[string]string{
		"":                  "give a template",
		"/app/users":        "names no {column}",
		"/app/{a}{b}":       "separate them with '/'",
		"/app/{id":          "'{' without '}'",
		"/app/id}":          "'}' without '{'",
		"/app/{}":           "name a column",
		"/app/{a}-{b}/rest": "separate them with '/'",
	}
	for tmpl, want := range tests {
		_, err := parseKeyTemplate(tmpl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseKeyTemplate(%q) = %v, want error containing %q", tmpl, err, want)
		}
	}
}

func TestKeyTemplatesThatCanShareAKeyOverlap(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/app/users/{id}", "/app/users/{name}", true},
		{"/app/users/{id}", "/app/users-by-name/{name}", false},
		{"/app/u/{id}", "/app/u/x{name}", true},
		{"/app/u/a{id}", "/app/u/b{name}", false},
		{"/app/u/{id}.json", "/app/u/{id}.yaml", false},
		{"/app/u/{id}", "/app/u/{id}/extra", false},
		{"/app/{tenant}/u/{id}", "/app/acme/u/{id}", true},
		{"/app/{tenant}/u/{id}", "/app/acme/v/{id}", false},
	}
	for _, tt := range tests {
		a, _ := parseKeyTemplate(tt.a)
		b, _ := parseKeyTemplate(tt.b)
		if got := a.overlaps(b); got != tt.want {
			t.Errorf("overlaps(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
