package mysqletcd

import (
	"context"
	"time"
)

// pacer holds a scan to a rate: after n items it waits until n/rate
// seconds have passed since the first call. A rate of 0 never waits.
type pacer struct {
	rate  float64 // items per second
	start time.Time
	n     int64
}

// wait counts n more items and sleeps until the scan is back under the rate.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p.rate <= 0 {
		return nil
	}
	if p.start.IsZero() {
		p.start = time.Now()
	}
	p.n += int64(n)
	due := p.start.Add(time.Duration(float64(p.n) / p.rate * float64(time.Second)))
	return sleepCtx(ctx, time.Until(due))
}
