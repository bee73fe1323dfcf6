package mysqletcd

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/go-sql-driver/mysql"
)

const (
	// DSNConfigParam is the DSN parameter that names the config file.
	DSNConfigParam = "mysqletcd-config"
	// EnvConfig is the environment variable that names the config file when
	// the DSN does not.
	EnvConfig = "MYSQLETCD_CONFIG"
)

// splitDSN parses a go-sql-driver/mysql DSN and removes the driver's own
// parameters, which mysql would otherwise send to the server as SET and fail.
// They are cut out of the text before mysql parses it, because their values
// are paths: mysql rejects a '/' in an unescaped parameter value.
func splitDSN(dsn string) (*mysql.Config, map[string]string, error) {
	rest, ours, err := cutParams(dsn)
	if err != nil {
		return nil, nil, err
	}
	mc, err := mysql.ParseDSN(rest)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: dsn: %w", ErrConfig, err)
	}
	for k := range ours {
		if k != DSNConfigParam {
			return nil, nil, fmt.Errorf("%w: dsn: unknown parameter %q: the driver knows only %s", ErrConfig, k, DSNConfigParam)
		}
	}
	return mc, ours, nil
}

// cutParams removes every "mysqletcd-name=value" parameter from a DSN.
func cutParams(dsn string) (string, map[string]string, error) {
	ours := map[string]string{}
	for {
		i := paramStart(dsn)
		if i < 0 {
			return dsn, ours, nil
		}
		end := strings.IndexByte(dsn[i+1:], '&')
		if end < 0 {
			end = len(dsn)
		} else {
			end += i + 1
		}
		name, raw, _ := strings.Cut(dsn[i+1:end], "=")
		value, err := url.QueryUnescape(raw)
		if err != nil {
			return "", nil, fmt.Errorf("%w: dsn: parameter %s: %w", ErrConfig, name, err)
		}
		ours[name] = value
		switch {
		case dsn[i] == '?' && end < len(dsn):
			dsn = dsn[:i+1] + dsn[end+1:] // keep '?' for the next parameter
		default:
			dsn = dsn[:i] + dsn[end:]
		}
	}
}

// paramStart is the index of the '?' or '&' before the first parameter
// named mysqletcd-..., or -1.
func paramStart(dsn string) int {
	for from := 0; ; {
		j := strings.Index(dsn[from:], "mysqletcd-")
		if j < 0 {
			return -1
		}
		j += from
		if j > 0 && (dsn[j-1] == '?' || dsn[j-1] == '&') {
			return j - 1
		}
		from = j + 1
	}
}

// configPath is the config file a DSN's parameters or the environment name.
func configPath(params map[string]string) (string, error) {
	if p := params[DSNConfigParam]; p != "" {
		return p, nil
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p, nil
	}
	return "", fmt.Errorf("%w: no config: add %s=/path/to/mysqletcd.yaml to the DSN, or set %s", ErrConfig, DSNConfigParam, EnvConfig)
}

// ParseDSN parses a DSN as the driver does: a go-sql-driver/mysql DSN,
// from which the driver's own parameters are cut. It returns the mysql
// config and the config file the DSN names (empty when it names none).
func ParseDSN(dsn string) (*mysql.Config, string, error) {
	mc, params, err := splitDSN(dsn)
	if err != nil {
		return nil, "", err
	}
	return mc, params[DSNConfigParam], nil
}
