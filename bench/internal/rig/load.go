package rig

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Paced calls op about rate times a second for d, from workers goroutines
// (open loop: the schedule does not wait for slow calls unless every
// worker is busy). It returns the calls completed and the time they took.
// i numbers the calls from 0.
func Paced(ctx context.Context, rate float64, d time.Duration, workers int, op func(ctx context.Context, i int64) error) (int64, time.Duration, error) {
	jobs := make(chan int64, workers*4)
	var done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := op(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					continue
				}
				done.Add(1)
			}
		})
	}
	start := time.Now()
	total := int64(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	for i := int64(0); i < total && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 200*time.Microsecond {
			time.Sleep(wait)
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return done.Load(), time.Since(start), firstErr
}

// Closed runs op in a loop on each of workers goroutines for d (closed
// loop: as fast as the calls return) and returns the calls completed,
// each call's latency, and the time taken.
func Closed(ctx context.Context, d time.Duration, workers int, op func(ctx context.Context, worker int, i int64) error) (int64, []time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var lats []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	var n atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				i := n.Add(1) - 1
				t := time.Now()
				if err := op(ctx, w, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t))
			}
			mu.Lock()
			lats = append(lats, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return int64(len(lats)), lats, time.Since(start), firstErr
}
