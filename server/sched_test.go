package server_test

import (
	"math"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/server"
)

func TestSchedStats(t *testing.T) {
	before := server.ReadSchedStats()
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {})
	}
	wg.Wait()
	after := server.ReadSchedStats()
	if n := after.GoroutinesCreated - before.GoroutinesCreated; n < 100 {
		t.Errorf("%d goroutines created, want at least 100", n)
	}
	d := after.Latencies.Sub(before.Latencies)
	if q := d.Quantile(0.99); q <= 0 || q == math.MaxFloat64 {
		t.Errorf("p99 scheduling latency %v: want a finite bucket bound", q)
	}
}

func TestHistogramQuantile(t *testing.T) {
	h := server.Histogram{Counts: []uint64{0, 90, 9, 1}, Bounds: []float64{-math.MaxFloat64, 1, 2, 4, math.MaxFloat64}}
	for q, want := range map[float64]float64{0.5: 2, 0.9: 2, 0.99: 4, 1: math.MaxFloat64} {
		if got := h.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v (the bucket's upper bound)", q, got, want)
		}
	}
	if got := (server.Histogram{Counts: []uint64{0, 0}, Bounds: []float64{0, 1, 2}}).Quantile(0.99); got != 0 {
		t.Errorf("empty: %v, want 0", got)
	}
}
