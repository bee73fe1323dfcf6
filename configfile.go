package mysqletcd

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// configSource remembers where a config was read from, so that Validate's
// errors can point at the file and line of the field.
type configSource struct {
	path  string         // empty for ParseConfig's text
	lines map[string]int // field path ("tables[0].key") -> line
}

// locate is "path:line: " for a field path, or as much of it as is known.
func (src *configSource) locate(field string) string {
	if src == nil {
		return ""
	}
	line := src.lines[field]
	for line == 0 && strings.ContainsAny(field, ".[") {
		// tables[0].key unknown (a missing field): try tables[0], tables.
		i := strings.LastIndexAny(field, ".[")
		field = field[:i]
		line = src.lines[field]
	}
	switch {
	case src.path != "" && line > 0:
		return fmt.Sprintf("%s:%d: ", src.path, line)
	case src.path != "":
		return src.path + ": "
	case line > 0:
		return fmt.Sprintf("line %d: ", line)
	}
	return ""
}

// fieldLines maps each field path of a YAML document to its line.
func fieldLines(text []byte) map[string]int {
	var doc yaml.Node
	lines := map[string]int{}
	if yaml.Unmarshal(text, &doc) != nil || len(doc.Content) == 0 {
		return lines
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				lines[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				lines[p] = c.Line
				walk(c, p)
			}
		}
	}
	walk(doc.Content[0], "")
	return lines
}

// placeholder is ${NAME} or ${NAME:-default}; $${ is a literal ${.
var placeholder = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandEnv replaces ${NAME} and ${NAME:-default} with the environment's
// values, line by line so that lines keep their numbers. A value inside a
// quoted YAML scalar is escaped for that quoting; unquoted, it is inserted
// as written (quote the placeholder when the value may hold YAML syntax,
// such as a password with ": " or " #").
func expandEnv(text []byte, lookup func(string) (string, bool)) ([]byte, error) {
	lines := strings.Split(string(text), "\n")
	var errs []string
	for i, line := range lines {
		if !strings.Contains(line, "${") {
			continue
		}
		var b strings.Builder
		last := 0
		for _, m := range placeholder.FindAllStringSubmatchIndex(line, -1) {
			b.WriteString(line[last:m[0]])
			last = m[1]
			whole := line[m[0]:m[1]]
			if strings.HasPrefix(whole, "$$") {
				b.WriteString(whole[1:]) // escaped: a literal ${...}
				continue
			}
			name := line[m[2]:m[3]]
			value, ok := lookup(name)
			if !ok || (value == "" && m[4] >= 0) {
				if m[4] < 0 {
					errs = append(errs, fmt.Sprintf("line %d: ${%s} is not set: export %s, or write ${%s:-default}", i+1, name, name, name))
					continue
				}
				value = line[m[6]:m[7]]
			}
			if strings.ContainsAny(value, "\n\r") {
				errs = append(errs, fmt.Sprintf("line %d: ${%s} holds a line break, which a config value cannot", i+1, name))
				continue
			}
			b.WriteString(escapeFor(quoteAt(line, m[0]), value))
		}
		b.WriteString(line[last:])
		lines[i] = b.String()
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "; "))
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// quoteAt is the YAML quote (", ' or 0) open at position pos of a line.
func quoteAt(line string, pos int) byte {
	var open byte
	for i := 0; i < pos; i++ {
		c := line[i]
		switch {
		case open == '"' && c == '\\':
			i++
		case open == 0 && (c == '"' || c == '\''):
			open = c
		case open == '\'' && c == '\'' && i+1 < pos && line[i+1] == '\'':
			i++
		case c == open:
			open = 0
		case open == 0 && c == '#' && (i == 0 || line[i-1] == ' '):
			return 0 // a comment
		}
	}
	return open
}

func escapeFor(quote byte, value string) string {
	switch quote {
	case '"':
		return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value)
	case '\'':
		return strings.ReplaceAll(value, "'", "''")
	}
	return value
}

// lookupEnv is os.LookupEnv; tests replace it.
var lookupEnv = os.LookupEnv
