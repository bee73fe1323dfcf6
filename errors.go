package mysqletcd

import "errors"

// Sentinel errors. Errors returned by the package wrap one of these where it
// applies, so callers can test them with errors.Is.
var (
	// ErrConfig reports a configuration that cannot work. The message names
	// the field and how to fix it.
	ErrConfig = errors.New("mysqletcd: invalid config")

	// ErrSchema reports a mapping that does not fit the live database schema.
	ErrSchema = errors.New("mysqletcd: mapping does not fit the schema")

	// ErrEtcdAccess reports that etcd refused the driver when its first
	// connection opened: the TLS setup, the credentials, or a permission
	// the user's role lacks. The message says which, and the fix.
	ErrEtcdAccess = errors.New("mysqletcd: etcd refused access")

	// ErrClosed is returned by operations on a closed Connector.
	ErrClosed = errors.New("mysqletcd: connector closed")

	// ErrValueTooLarge reports a key whose value etcd refuses as too large
	// for one request (etcd's --max-request-bytes, 1.5 MiB by default). The
	// key is not pushed and keeps its previous value in etcd; the error,
	// passed to Config.OnError, names the table and the key.
	ErrValueTooLarge = errors.New("mysqletcd: value too large for etcd")
)
