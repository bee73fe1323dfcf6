package mysqletcd

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// tlsConfig builds the TLS config for etcd, or nil for plain connections.
func (ec EtcdConfig) tlsConfig() (*tls.Config, error) {
	if ec.TLSConfig != nil {
		return ec.TLSConfig, nil
	}
	if ec.TLS == nil {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ec.TLS.CA != "" {
		pem, err := os.ReadFile(ec.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("%w: etcd.tls.ca: %w", ErrConfig, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: etcd.tls.ca: %s holds no PEM certificate", ErrConfig, ec.TLS.CA)
		}
		cfg.RootCAs = pool
	}
	if ec.TLS.Cert != "" || ec.TLS.Key != "" {
		cert, err := tls.LoadX509KeyPair(ec.TLS.Cert, ec.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: etcd.tls.cert/key: %w", ErrConfig, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
