package testenv

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 that forwards each connection to one
// address and can hold every byte back for a while in each direction: to a
// client, the server behind it answers late, as a loaded or distant server
// does. Bytes keep their order and the delay is latency, not a bandwidth cap.
// Methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds, each way

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	stop   chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// StartProxy listens on a free loopback port and forwards to target
// ("host:port"), at first without delay.
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start proxy to %s: %w", target, err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, stop: make(chan struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// Addr is the proxy's address, "127.0.0.1:PORT".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay holds every byte read from now on for d before it is passed on,
// in each direction, so a request and its answer take 2*d longer. Bytes
// already held keep the delay they were read with.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

// Close stops listening, cuts every connection and waits for the proxy's
// goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.stop)
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// track adds c to the connections Close cuts; false when closed already.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// serve forwards one connection both ways until either side ends it.
func (p *Proxy) serve(client net.Conn) {
	defer p.untrack(client)
	if !p.track(client) {
		return
	}
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return // the client sees its connection closed, as with a dead server
	}
	defer p.untrack(server)
	if !p.track(server) {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.pipe(server, client) })
	wg.Go(func() { p.pipe(client, server) })
	wg.Wait()
}

// wait sleeps until t; false when the proxy closes first.
func (p *Proxy) wait(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-p.stop:
		return false
	}
}

// chunk is bytes read at one moment, to be written at due.
type chunk struct {
	due  time.Time
	data []byte
}

// pipe copies src to dst, writing each chunk read the current delay after
// it was read. When either end fails, both are closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	held := make(chan chunk, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range held {
			if !p.wait(c.due) {
				break
			}
			if _, err := dst.Write(c.data); err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
		for range held { // let the reader finish
		}
	}()
	for {
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			held <- chunk{due: time.Now().Add(time.Duration(p.delay.Load())), data: buf[:n]}
		}
		if err != nil {
			break // the writer passes on what is held, then closes both ends
		}
	}
	close(held)
	<-done
}
