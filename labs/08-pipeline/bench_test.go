package pipeline_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/08-pipeline/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/storetest"
	"github.com/flamelab/flamelab/server"
)

// BenchmarkInsert stores 50-event requests from 32 goroutines at once
// (lab 07's batching store, running each pipeline) and reports, beside the
// time per request, the batches in flight (the seconds spent in COPYs over
// the wall clock: Little's law) and the requests per COPY. The tests'
// database runs without fsync, so the disk's wait, the lesson's main
// cost, is not in these figures: make lab-8 measures a durable one.
func BenchmarkInsert(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) { benchInsert(b, impl.Of) })
	}
}

// BenchmarkInFlight is the solution with 1, 2, 4 and 8 batches in flight
// (make bench-8's second table): where more stops paying.
func BenchmarkInFlight(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("method=inflight-%d", n), func(b *testing.B) {
			benchInsert(b, func() server.Pipeline { return solution.New(solution.Options{InFlight: n}) })
		})
	}
}

func benchInsert(b *testing.B, p newPipeline) {
	pool, trips := storetest.Setup(b, "lab8-bench")
	s := storetest.Open(b, storeWith(p), pool)
	evs := storetest.Events(1, 50)
	var id atomic.Int64
	trips.Reset()
	// RunParallel does not reset the timer (b.Loop would): without this,
	// the table's truncation and the pool's first connections (and, on the
	// first run, the container's start) would be timed as inserts.
	b.ResetTimer()
	start := time.Now()
	b.SetParallelism(16) // 32 goroutines on two cores: the labs' 32 clients
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := storetest.Insert(s, storetest.RequestID(int(id.Add(1))), evs); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start).Seconds()
	copies, _ := trips.Copies()
	b.ReportMetric(trips.CopySeconds()/elapsed, "batches-in-flight")
	if copies > 0 {
		b.ReportMetric(float64(id.Load())/float64(copies), "requests/copy")
	}
}
