package locks_test

import (
	"fmt"
	"io"
	"runtime/metrics"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// mixes are reads of /stats per 100 ingest requests.
var mixes = []int{1, 10}

// benchMix runs 8 goroutines (on 2 processors) of ingest requests with a
// /stats read every 100/reads operations, against statistics already holding
// 100 requests (about 3,000 users). Beside the time, it reports the mutex wait
// per operation (runtime/metrics' /sync/mutex/wait/total:seconds): less
// waiting and more throughput are not the same thing.
func benchMix(b *testing.B, newStats func() server.Stats, reads int) {
	s := newStats()
	for i := range 100 {
		s.Observe(request(i))
	}
	reqs := make([][]server.Event, 64)
	for i := range reqs {
		reqs[i] = request(1000 + i)
	}
	every := 100 / reads
	b.ReportAllocs()
	b.SetParallelism(4)
	before := mutexWait()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if i%every == every-1 {
				_ = s.WriteJSON(io.Discard)
			} else {
				s.Observe(reqs[i%len(reqs)])
			}
			i++
		}
	})
	b.StopTimer()
	b.ReportMetric((mutexWait()-before)*1e9/float64(b.N), "mutex-wait-ns/op")
}

func mutexWait() float64 {
	s := []metrics.Sample{{Name: "/sync/mutex/wait/total:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64()
}

func BenchmarkMix(b *testing.B) {
	for _, reads := range mixes {
		for _, impl := range labtest.Under(b, all) {
			b.Run(fmt.Sprintf("reads=%d/impl=%s", reads, impl.Name), func(b *testing.B) { benchMix(b, impl.Of, reads) })
		}
	}
}

func BenchmarkCandidates(b *testing.B) {
	for _, reads := range mixes {
		for _, c := range candidates {
			b.Run(fmt.Sprintf("reads=%d/method=%s", reads, c.name), func(b *testing.B) { benchMix(b, c.new, reads) })
		}
	}
}
