package sqlparse

import "strings"

// The TiDB grammar lacks a few transaction statements of MySQL. A
// transaction tracker must not take them for unknown statements, so they are
// recognised here, but only in the plain forms below: anything else stays a
// parse error.

// xaVerbs are the words that may follow XA.
var xaVerbs = [...]string{"START", "BEGIN", "END", "PREPARE", "COMMIT", "ROLLBACK", "RECOVER"}

// workVerbs are the statements that take an optional WORK the grammar lacks.
var workVerbs = [...]string{"BEGIN", "COMMIT", "ROLLBACK"}

// startCharacteristics are the items of START TRANSACTION's list; the
// grammar takes only one of them.
var startCharacteristics = [...]string{"WITH CONSISTENT SNAPSHOT", "READ WRITE", "READ ONLY"}

// isXA reports whether sql is one XA statement.
func isXA(sql string) bool {
	word, rest := cutWord(skipSpaceAndComments(sql))
	if !strings.EqualFold(word, "XA") {
		return false
	}
	verb, rest := cutWord(skipSpaceAndComments(rest))
	return oneOf(verb, xaVerbs[:]) && lone(rest)
}

// withoutWork blanks the WORK of a leading BEGIN WORK, COMMIT WORK or
// ROLLBACK WORK, keeping every other byte, and so placeholder offsets, where
// it was.
func withoutWork(sql string) (string, bool) {
	verb, rest := cutWord(skipSpaceAndComments(sql))
	if !oneOf(verb, workVerbs[:]) {
		return "", false
	}
	rest = skipSpaceAndComments(rest)
	word, _ := cutWord(rest)
	if !strings.EqualFold(word, "WORK") {
		return "", false
	}
	at := len(sql) - len(rest)
	return sql[:at] + "    " + sql[at+len("WORK"):], true
}

// isStartTransaction reports whether sql is one START TRANSACTION with a
// list of characteristics.
func isStartTransaction(sql string) bool {
	start, rest := cutWord(skipSpaceAndComments(sql))
	if !strings.EqualFold(start, "START") {
		return false
	}
	txn, rest := cutWord(skipSpaceAndComments(rest))
	if !strings.EqualFold(txn, "TRANSACTION") || !lone(rest) {
		return false
	}
	rest = strings.TrimRight(rest, " \t\r\n;")
	for item := range strings.SplitSeq(rest, ",") {
		if !oneOf(strings.Join(strings.Fields(item), " "), startCharacteristics[:]) {
			return false
		}
	}
	return true
}

// lone reports whether rest, the remainder of a statement, ends the text.
// Without a lexer a ';' inside a quoted name cannot be told apart from a
// separator, so any ';' but a trailing one disqualifies.
func lone(rest string) bool {
	return !strings.Contains(strings.TrimRight(rest, " \t\r\n;"), ";")
}

func oneOf(word string, words []string) bool {
	for _, w := range words {
		if strings.EqualFold(word, w) {
			return true
		}
	}
	return false
}

// cutWord splits off the leading run of letters, or returns no word when it
// runs into something other than a separator.
func cutWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i < len(s) && !isSpace(s[i]) && !strings.ContainsRune("'\"/-#;,", rune(s[i])) {
		return "", s
	}
	return s[:i], s[i:]
}

// skipSpaceAndComments drops leading white space and comments, but stops at
// executable (/*! */, /*M! */) and hint (/*+ */) comments, which hold code.
func skipSpaceAndComments(s string) string {
	for {
		switch {
		case len(s) > 0 && isSpace(s[0]):
			s = s[1:]
		case strings.HasPrefix(s, "/*") && !strings.HasPrefix(s, "/*!") && !strings.HasPrefix(s, "/*+") && !strings.HasPrefix(s, "/*M!"):
			end := strings.Index(s[2:], "*/")
			if end < 0 {
				return s
			}
			s = s[2+end+2:]
		case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "--") && (len(s) == 2 || isSpace(s[2])):
			end := strings.IndexByte(s, '\n')
			if end < 0 {
				return ""
			}
			s = s[end+1:]
		default:
			return s
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
