package testenv

import (
	"regexp"
	"strings"
)

var unsafeNameChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeName makes s usable as a file name component.
func safeName(s string) string {
	return unsafeNameChars.ReplaceAllString(s, "_")
}

// quoteString quotes s as an SQL string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}

// quoteIdent quotes s as an SQL identifier.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}
