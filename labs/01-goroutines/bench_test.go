package goroutines_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// BenchmarkEnrich enriches one request's 50 events; make bench-1 compares the
// implementations.
func BenchmarkEnrich(b *testing.B) {
	evs := fixture(50)
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			b.ReportAllocs()
			before := created()
			for b.Loop() {
				impl.Of.Enrich(evs)
			}
			b.ReportMetric(float64(created()-before)/float64(b.N), "goroutines/op")
		})
	}
}

// The sweep: 50 items of synthetic CPU work of a given size, spread by each
// method. Where do goroutines start to pay? On an idle machine
// (BenchmarkSweep), and on one whose every core is already busy with other
// requests, as a loaded server's is (BenchmarkSweepBusy: GOMAXPROCS callers
// at once).
var sweep = []time.Duration{100 * time.Nanosecond, time.Microsecond, 10 * time.Microsecond, 100 * time.Microsecond}

func BenchmarkSweep(b *testing.B) {
	for _, d := range sweep {
		for _, m := range methods {
			b.Run(fmt.Sprintf("work=%v/method=%s", d, m.name), func(b *testing.B) {
				iters := itersFor(d)
				out := make([]uint64, 50)
				for b.Loop() {
					m.run(len(out), func(i int) { out[i] = burn(iters) })
				}
			})
		}
	}
}

func BenchmarkSweepBusy(b *testing.B) {
	for _, d := range sweep {
		for _, m := range methods {
			b.Run(fmt.Sprintf("work=%v/method=%s", d, m.name), func(b *testing.B) {
				iters := itersFor(d)
				b.RunParallel(func(pb *testing.PB) {
					out := make([]uint64, 50)
					for pb.Next() {
						m.run(len(out), func(i int) { out[i] = burn(iters) })
					}
				})
			})
		}
	}
}

// burn does n rounds of xorshift: CPU work that touches no memory, so its
// cost does not depend on caches or the allocator.
func burn(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

var perNs float64 // burn rounds per nanosecond on this machine

// itersFor returns the rounds of burn that take about d here. The
// calibration sizes the work; nothing is judged on it.
func itersFor(d time.Duration) int {
	if perNs == 0 {
		const n = 20_000_000
		start := time.Now()
		sink = burn(n)
		perNs = n / float64(time.Since(start).Nanoseconds())
	}
	return max(1, int(perNs*float64(d.Nanoseconds())))
}

var sink uint64
