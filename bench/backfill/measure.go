package main

import (
	"sync"
	"time"
)

// sampleEvery is how often a running phase's RSS is read.
const sampleEvery = 100 * time.Millisecond

// phase is what one measured step cost.
type phase struct {
	name   string // with its details
	short  string
	keys   int64
	wall   time.Duration
	cpu    cpuUse
	rssMax int64    // the largest VmRSS sampled
	marks  [4]int64 // VmRSS when progress first reached 25, 50, 75 and 100%
}

// rate is keys per second.
func (p phase) rate() float64 { return float64(p.keys) / p.wall.Seconds() }

// cpuUse is CPU seconds used by this process and, when servers is set, by
// the servers the program started.
type cpuUse struct {
	client, etcd, mysql float64
	servers             bool
}

func (c cpuUse) sub(d cpuUse) cpuUse {
	return cpuUse{c.client - d.client, c.etcd - d.etcd, c.mysql - d.mysql, c.servers}
}

// meter measures phases of the program.
type meter struct {
	etcdPID, mysqlPID string // "" when not ours to read
}

func (m meter) cpu() cpuUse {
	u := cpuUse{client: cpuSeconds("self"), servers: m.etcdPID != "" && m.mysqlPID != ""}
	if m.etcdPID != "" {
		u.etcd = cpuSeconds(m.etcdPID)
	}
	if m.mysqlPID != "" {
		u.mysql = cpuSeconds(m.mysqlPID)
	}
	return u
}

// measure runs f as a phase that handles keys keys. progress, when not
// nil, says how many it has handled so far, for the RSS marks.
func (m meter) measure(name, short string, keys int64, progress func() int64, f func() error) (phase, error) {
	p := phase{name: name, short: short, keys: keys}
	s := startSampler(progress, keys)
	cpu0 := m.cpu()
	start := time.Now()
	err := f()
	p.wall = time.Since(start)
	p.cpu = m.cpu().sub(cpu0)
	p.rssMax, p.marks = s.stop()
	return p, err
}

// sampler reads this process's VmRSS every sampleEvery until stopped.
type sampler struct {
	progress func() int64
	total    int64
	stopc    chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	max   int64
	marks [4]int64
	next  int // the next mark to fill
}

func startSampler(progress func() int64, total int64) *sampler {
	s := &sampler{progress: progress, total: total, stopc: make(chan struct{})}
	s.sample()
	s.wg.Go(func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.sample()
			}
		}
	})
	return s
}

func (s *sampler) sample() {
	rss, err := memStatus("self", "VmRSS")
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max(s.max, rss)
	if s.progress == nil || s.total == 0 {
		return
	}
	done := s.progress()
	for s.next < len(s.marks) && done*int64(len(s.marks)) >= s.total*int64(s.next+1) {
		s.marks[s.next] = rss
		s.next++
	}
}

// stop takes a last sample and returns the largest VmRSS seen and the marks.
func (s *sampler) stop() (int64, [4]int64) {
	close(s.stopc)
	s.wg.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.marks
}
