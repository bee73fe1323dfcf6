package mysqletcd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// keyText is the text of a key column's value as it goes into a key: the
// value MySQL's text protocol would send.
func keyText(c column, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return normalizeNumber(c, string(v))
	case string:
		return normalizeNumber(c, v)
	case int64:
		return strconv.FormatInt(v, 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		if isInteger(c) && v == float64(int64(v)) {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		if c.dataType == "date" {
			return v.Format(time.DateOnly)
		}
		return strings.TrimSuffix(v.Format("2006-01-02 15:04:05.999999"), ".")
	}
	return ""
}

// normalizeNumber turns "007" into "7" for integer columns, as MySQL would
// store it, so that a key taken from statement text matches the row's.
func normalizeNumber(c column, s string) string {
	if !isInteger(c) {
		return s
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return s
}

func isInteger(c column) bool {
	switch c.dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year":
		return true
	}
	return false
}

// appendJSON appends one column value in the JSON encoding of a mapping's
// value: integers and floats as numbers, DECIMAL as strings, times in
// RFC 3339, JSON embedded, binary as base64, NULL as null.
func appendJSON(b []byte, c column, v any) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	if t, ok := v.(time.Time); ok {
		return appendJSONTime(b, c, t)
	}
	raw := rawBytes(v)
	switch {
	case c.json && json.Valid(raw):
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			return append(b, buf.Bytes()...)
		}
	case c.binary:
		return strconv.AppendQuote(b, base64.StdEncoding.EncodeToString(raw))
	case c.dataType == "bit":
		var n uint64
		for _, x := range raw {
			n = n<<8 | uint64(x)
		}
		return strconv.AppendUint(b, n, 10)
	case isInteger(c), c.dataType == "float", c.dataType == "double":
		if json.Valid(raw) {
			return append(b, raw...)
		}
	case c.dataType == "datetime", c.dataType == "timestamp":
		if t, err := time.Parse("2006-01-02 15:04:05.999999", string(raw)); err == nil {
			return appendJSONTime(b, c, t)
		}
	}
	return appendJSONString(b, string(raw))
}

func appendJSONTime(b []byte, c column, t time.Time) []byte {
	if c.dataType == "date" {
		return strconv.AppendQuote(b, t.Format(time.DateOnly))
	}
	return strconv.AppendQuote(b, t.UTC().Format(time.RFC3339Nano))
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // cannot fail for a string
	return append(b, enc...)
}

// rawBytes is the text protocol form of a scanned value.
func rawBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	case int64:
		return strconv.AppendInt(nil, v, 10)
	case uint64:
		return strconv.AppendUint(nil, v, 10)
	case float64:
		return strconv.AppendFloat(nil, v, 'g', -1, 64)
	case float32:
		return strconv.AppendFloat(nil, float64(v), 'g', -1, 32)
	case bool:
		if v {
			return []byte("1")
		}
		return []byte("0")
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
