package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// valueWidth is how many characters of a value watch and check-config show.
const valueWidth = 64

// printable shows s with every byte that is not printable text escaped, so
// that no key or value can move the cursor or change a terminal's state:
// invalid UTF-8 as \xNN, control and invisible characters as Go escapes
// (\n, \t, \x00, \u200b).
func printable(s string) string {
	return shortValue([]byte(s), -1)
}

// shortValue is printable text of b cut to about width characters; a cut
// value ends with "…" and its size. An empty value is "". width < 0: no
// cut.
func shortValue(b []byte, width int) string {
	if len(b) == 0 {
		return `""`
	}
	var out strings.Builder
	shown := 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		piece := string(r)
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, b[i])
		case !unicode.IsGraphic(r):
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		if width >= 0 && shown+utf8.RuneCountInString(piece) > width {
			fmt.Fprintf(&out, "… (%d bytes)", len(b))
			break
		}
		out.WriteString(piece)
		shown += utf8.RuneCountInString(piece)
		i += size
	}
	return out.String()
}
