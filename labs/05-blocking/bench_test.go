package blocking_test

import (
	"context"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// BenchmarkAppend: 16 goroutines appending through a real file with real
// fsyncs; it reports fsyncs per record beside the time.
func BenchmarkAppend(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) { benchAppend(b, impl.Of) })
	}
}

func benchAppend(b *testing.B, newAuditor func(File) server.Auditor) {
	rf := newRecFile(b, 0)
	a := newAuditor(rf)
	defer a.Close()
	rec := []byte(`{"id":"r-1","request_id":"00000000-0000-0000-0000-000000000000","count":50}`)
	b.SetParallelism(8) // 16 goroutines on 2 CPUs: concurrent requests
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := a.Append(context.Background(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(rf.syncs)/float64(b.N), "fsyncs/op")
}

// BenchmarkWrongFixes measures the wrong fixes the way BenchmarkAppend
// measures the real ones.
func BenchmarkWrongFixes(b *testing.B) {
	for _, name := range []string{"no-fsync", "ack-before-fsync", "unlock-before-sync"} {
		b.Run("method="+name, func(b *testing.B) { benchAppend(b, wrongFixes[name]) })
	}
}
