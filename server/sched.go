package server

import (
	"expvar"
	"math"
	"runtime/metrics"
	"sync"
)

// SchedStats is what the runtime's scheduler has counted since the process
// started, published on the admin port's /debug/vars as "sched": the lab
// runner turns the difference over a leg into goroutines created per request
// and the scheduling latency's p99.
type SchedStats struct {
	// GoroutinesCreated: /sched/goroutines-created:goroutines.
	GoroutinesCreated uint64 `json:"goroutines_created"`
	// Latencies: /sched/latencies:seconds, how long goroutines waited
	// runnable before they ran. Counts[i] fell in [Bounds[i], Bounds[i+1]);
	// the infinite bounds are written as ±math.MaxFloat64 (JSON has no Inf).
	Latencies Histogram `json:"latencies_seconds"`
	// MutexWait: /sync/mutex/wait/total:seconds, the time goroutines spent
	// blocked on a sync.Mutex or RWMutex, summed over goroutines.
	MutexWait float64 `json:"mutex_wait_seconds"`
}

// Histogram is a runtime/metrics histogram in a form JSON can carry.
type Histogram struct {
	Counts []uint64  `json:"counts"`
	Bounds []float64 `json:"bounds"`
}

// Quantile returns the upper bound of the bucket holding quantile q of h,
// the convention of Go's own tools for these histograms; 0 when h is empty.
func (h Histogram) Quantile(q float64) float64 {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			return h.Bounds[i+1]
		}
	}
	return h.Bounds[len(h.Bounds)-1]
}

// Sub returns h minus an earlier reading of the same histogram.
func (h Histogram) Sub(earlier Histogram) Histogram {
	out := Histogram{Counts: make([]uint64, len(h.Counts)), Bounds: h.Bounds}
	for i := range h.Counts {
		out.Counts[i] = h.Counts[i]
		if i < len(earlier.Counts) {
			out.Counts[i] -= earlier.Counts[i]
		}
	}
	return out
}

// ReadSchedStats reads the scheduler's counters now.
func ReadSchedStats() SchedStats {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}, {Name: "/sched/latencies:seconds"}, {Name: "/sync/mutex/wait/total:seconds"}}
	metrics.Read(s)
	var out SchedStats
	if s[0].Value.Kind() == metrics.KindUint64 {
		out.GoroutinesCreated = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindFloat64Histogram {
		h := s[1].Value.Float64Histogram()
		out.Latencies.Counts = h.Counts
		out.Latencies.Bounds = make([]float64, len(h.Buckets))
		for i, b := range h.Buckets {
			out.Latencies.Bounds[i] = max(-math.MaxFloat64, min(math.MaxFloat64, b))
		}
	}
	if s[2].Value.Kind() == metrics.KindFloat64 {
		out.MutexWait = s[2].Value.Float64()
	}
	return out
}

var publishSched sync.Once

// PublishSchedStats publishes ReadSchedStats on expvar as "sched" (once per
// process: expvar names are global).
func PublishSchedStats() {
	publishSched.Do(func() {
		expvar.Publish("sched", expvar.Func(func() any { return ReadSchedStats() }))
	})
}
