package testenv

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
)

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment
// ago. Nothing holds them afterwards, so a caller must be ready to retry when
// its server fails to bind (see isAddrInUse).
func freePorts(n int) ([]int, error) {
	// Keep every listener open until all are chosen so the kernel cannot hand
	// out the same port twice.
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// isAddrInUse reports whether err says that a listen address was taken.
func isAddrInUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) ||
		(err != nil && strings.Contains(err.Error(), "address already in use"))
}
