package batching_test

import (
	"context"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// BenchmarkInsert writes one 50-event request at a time; compare with
// make bench-7. It reports round trips per request beside the time.
func BenchmarkInsert(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			pool, trips := setup(b, "lab7-bench")
			s := open(b, impl.Of, pool)
			evs := events(1, 50)
			trips.Reset()
			i := 0
			for b.Loop() {
				if err := insert(s, requestID(i), evs); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(trips.Total())/float64(i), "roundtrips/op")
		})
	}
}

// BenchmarkRecent reads a user's 50 newest events out of 300: the read path
// that make lab-7's POST load does not exercise.
func BenchmarkRecent(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			pool, trips := setup(b, "lab7-bench-read")
			s := open(b, impl.Of, pool)
			evs := events(1, 300)
			for i := range evs {
				evs[i].UserID = 77
			}
			if err := insert(s, requestID(1), evs); err != nil {
				b.Fatal(err)
			}
			trips.Reset()
			n := 0
			for b.Loop() {
				if got, err := s.Recent(context.Background(), 77, 50); err != nil || len(got) != 50 {
					b.Fatal(len(got), err)
				}
				n++
			}
			b.ReportMetric(float64(trips.Total())/float64(n), "roundtrips/op")
		})
	}
}

// BenchmarkWriteMethods: one request of 50 events, stored each way. The
// lesson's choice of COPY for the batch writer rests on these numbers:
//
//	go test -run '^$' -bench WriteMethods -count 6 ./labs/07-batching/ > w.txt
//	go run golang.org/x/perf/cmd/benchstat -col /method w.txt
func BenchmarkWriteMethods(b *testing.B) {
	for _, m := range writeMethods {
		b.Run("method="+m.name, func(b *testing.B) {
			pool, trips := setup(b, "lab7-methods")
			evs := events(1, 50)
			trips.Reset()
			i := 0
			for b.Loop() {
				if err := m.write(context.Background(), pool, requestID(i), evs); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(trips.Total())/float64(i), "roundtrips/op")
		})
	}
	if db := pgtest.DB(b); !db.Fsync {
		b.Logf("%s: fsync is off here, so commits are nearly free; with fsync on, every commit waits for the disk", db.Where)
	}
}
