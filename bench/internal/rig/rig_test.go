package rig

import (
	"encoding/json"
	"testing"
	"time"
)

func TestMedianOfOddAndEvenCounts(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestQuantileIsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := Quantile(ds, c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if Quantile(nil, 0.5) != 0 {
		t.Error("Quantile of nothing is not 0")
	}
}

func TestItemJSONDecodesAsItemAndCarriesItsToken(t *testing.T) {
	v := ItemJSON(7, `t1"x`, -3)
	var it Item
	if err := json.Unmarshal([]byte(v), &it); err != nil {
		t.Fatal(err)
	}
	if it != (Item{7, `t1"x`, -3}) {
		t.Errorf("decoded %+v", it)
	}
	if tok := TokenOf([]byte(ItemJSON(1, "t42", 0))); tok != "t42" {
		t.Errorf("TokenOf = %q", tok)
	}
	if tok := TokenOf([]byte(`{"id":1}`)); tok != "" {
		t.Errorf("TokenOf without val = %q", tok)
	}
}

func TestDurFormatsThreeSignificantDigits(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{879 * time.Microsecond, "879µs"},
		{12700 * time.Microsecond, "12.7ms"},
		{1290 * time.Millisecond, "1.29s"},
	} {
		if got := Dur(c.d); got != c.want {
			t.Errorf("Dur(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestGateHoldsUntilOpen(t *testing.T) {
	g := NewGate()
	g.Close()
	tr := g.Trace()
	done := make(chan struct{})
	go func() {
		tr.FencesRead([]string{"k"})
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a push went through a closed gate")
	case <-time.After(20 * time.Millisecond):
	}
	g.Open()
	<-done
}
