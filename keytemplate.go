package mysqletcd

import (
	"fmt"
	"net/url"
	"strings"
)

// keyTemplate is a parsed key such as "/app/users/{id}". Every value is
// escaped with url.PathEscape, which escapes '/', so a key splits back into
// its values unambiguously as long as each '/'-separated segment holds at
// most one {column}: that is what parseKeyTemplate enforces.
type keyTemplate struct {
	text     string
	segments []keySegment // split on '/'
	columns  []string     // in order of appearance, without repeats
	prefix   string       // literal text before the first {column}
}

// keySegment is one '/'-separated part: literal text, or prefix{column}suffix.
type keySegment struct {
	literal string // the whole segment when column is empty
	column  string
	col     int // index of column in keyTemplate.columns
	before  string
	after   string
}

func parseKeyTemplate(text string) (*keyTemplate, error) {
	if text == "" {
		return nil, fmt.Errorf("is empty: give a template such as /app/users/{id}")
	}
	t := &keyTemplate{text: text}
	seen := map[string]int{}
	for _, part := range strings.Split(text, "/") {
		seg, err := parseKeySegment(part)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", text, err)
		}
		if seg.column != "" {
			if _, ok := seen[seg.column]; !ok {
				seen[seg.column] = len(t.columns)
				t.columns = append(t.columns, seg.column)
			}
			seg.col = seen[seg.column]
		}
		t.segments = append(t.segments, seg)
	}
	if len(t.columns) == 0 {
		return nil, fmt.Errorf("%q names no {column}: each row needs its own key, such as /app/users/{id}", text)
	}
	t.prefix = text[:strings.IndexByte(text, '{')]
	return t, nil
}

func parseKeySegment(part string) (keySegment, error) {
	open := strings.IndexByte(part, '{')
	if open < 0 {
		if strings.IndexByte(part, '}') >= 0 {
			return keySegment{}, fmt.Errorf("'}' without '{' in %q", part)
		}
		return keySegment{literal: part}, nil
	}
	end := strings.IndexByte(part[open:], '}')
	if end < 0 {
		return keySegment{}, fmt.Errorf("'{' without '}' in %q", part)
	}
	end += open
	col := part[open+1 : end]
	if col == "" {
		return keySegment{}, fmt.Errorf("empty {} in %q: name a column", part)
	}
	after := part[end+1:]
	if strings.ContainsAny(after, "{}") {
		return keySegment{}, fmt.Errorf("%q holds two {columns}: separate them with '/', such as {a}/{b}", part)
	}
	return keySegment{column: col, before: part[:open], after: after}, nil
}

// render builds the key from the text form of each column's value, given in
// the order of t.columns.
func (t *keyTemplate) render(values []string) string {
	var b strings.Builder
	b.Grow(len(t.text) + 16)
	for i, s := range t.segments {
		if i > 0 {
			b.WriteByte('/')
		}
		if s.column == "" {
			b.WriteString(s.literal)
			continue
		}
		b.WriteString(s.before)
		b.WriteString(url.PathEscape(values[s.col]))
		b.WriteString(s.after)
	}
	return b.String()
}

// parse recovers the column values of a key that render produced, in the
// order of t.columns; ok is false when the key does not have this shape.
func (t *keyTemplate) parse(key string) (values []string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != len(t.segments) {
		return nil, false
	}
	values = make([]string, len(t.columns))
	set := make([]bool, len(t.columns))
	for i, s := range t.segments {
		p := parts[i]
		if s.column == "" {
			if p != s.literal {
				return nil, false
			}
			continue
		}
		if len(p) < len(s.before)+len(s.after) || !strings.HasPrefix(p, s.before) || !strings.HasSuffix(p, s.after) {
			return nil, false
		}
		v, err := url.PathUnescape(p[len(s.before) : len(p)-len(s.after)])
		if err != nil {
			return nil, false
		}
		if set[s.col] && values[s.col] != v {
			return nil, false
		}
		values[s.col], set[s.col] = v, true
	}
	return values, true
}

// mayRenderUnder reports whether some key of the template could start with
// prefix + "/": whether values could make its first segments those of
// prefix. A value fills its segment only with text that url.PathEscape
// gives, which never holds a '/'.
func (t *keyTemplate) mayRenderUnder(prefix string) bool {
	parts := strings.Split(prefix, "/")
	if len(t.segments) <= len(parts) {
		return false
	}
	for i, p := range parts {
		s := t.segments[i]
		if s.column == "" {
			if s.literal != p {
				return false
			}
			continue
		}
		if !literalFits(p, s) || !isEscaped(p[len(s.before):len(p)-len(s.after)]) {
			return false
		}
	}
	return true
}

// isEscaped reports whether url.PathEscape gives s for some value.
func isEscaped(s string) bool {
	v, err := url.PathUnescape(s)
	return err == nil && url.PathEscape(v) == s
}

// overlaps reports whether some key could have the shape of both templates.
// It errs on the side of yes: two mappings that may write one key are a
// config error, because they would overwrite each other.
func (t *keyTemplate) overlaps(o *keyTemplate) bool {
	if len(t.segments) != len(o.segments) {
		return false
	}
	for i := range t.segments {
		if !segmentsOverlap(t.segments[i], o.segments[i]) {
			return false
		}
	}
	return true
}

func segmentsOverlap(a, b keySegment) bool {
	switch {
	case a.column == "" && b.column == "":
		return a.literal == b.literal
	case a.column == "":
		return literalFits(a.literal, b)
	case b.column == "":
		return literalFits(b.literal, a)
	}
	return compatible(a.before, b.before, strings.HasPrefix) && compatible(a.after, b.after, strings.HasSuffix)
}

func literalFits(lit string, s keySegment) bool {
	return len(lit) >= len(s.before)+len(s.after) && strings.HasPrefix(lit, s.before) && strings.HasSuffix(lit, s.after)
}

func compatible(x, y string, has func(string, string) bool) bool {
	return has(x, y) || has(y, x)
}
