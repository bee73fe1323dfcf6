package mysqletcd

import (
	"context"
	"testing"
	"time"
)

func TestQueueCoalescesAKeyQueuedOrInFlight(t *testing.T) {
	m := &mapping{}
	q := newQueue(10)
	it := func(k string) item { return item{m: m, key: k} }
	q.add([]item{it("a"), it("b"), it("a")})
	if n := q.len(); n != 2 {
		t.Fatalf("len = %d, want 2 (a queued twice is one key)", n)
	}
	ctx := context.Background()
	_, batch := q.take(ctx, 10)
	if len(batch) != 2 {
		t.Fatalf("batch = %v", batch)
	}
	q.add([]item{it("a"), it("a"), it("a")}) // captured again while in flight
	q.done(m, batch, true)
	_, again := q.take(ctx, 10)
	if len(again) != 1 || again[0].key != "a" {
		t.Fatalf("after flight: %v, want a once more", again)
	}
	q.done(m, again, true)
	if n := q.len(); n != 0 {
		t.Fatalf("len = %d, want 0", n)
	}
}

func TestQueueRefusesKeysBeyondItsSize(t *testing.T) {
	m1, m2 := &mapping{}, &mapping{}
	q := newQueue(2)
	over := q.add([]item{{m: m1, key: "a"}, {m: m1, key: "b"}, {m: m2, key: "c"}, {m: m1, key: "a"}})
	if len(over) != 1 || over[0] != m2 {
		t.Fatalf("overflow = %v, want m2 alone (a is already queued)", over)
	}
}

func TestQueueBatchesOneMappingAtATime(t *testing.T) {
	m1, m2 := &mapping{}, &mapping{}
	q := newQueue(100)
	q.add([]item{{m: m1, key: "a"}, {m: m2, key: "x"}, {m: m1, key: "b"}, {m: m1, key: "c"}})
	got, batch := q.take(context.Background(), 2)
	if got != m1 || len(batch) != 2 {
		t.Fatalf("first batch: %p %v", got, batch)
	}
	got, batch = q.take(context.Background(), 2)
	if got != m2 || len(batch) != 1 {
		t.Fatalf("second batch: %p %v, want m2 (round robin)", got, batch)
	}
}

func TestQueueTakeReturnsWhenClosed(t *testing.T) {
	q := newQueue(1)
	done := make(chan struct{})
	go func() {
		q.take(context.Background(), 1)
		close(done)
	}()
	q.close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("take did not return after close")
	}
}
