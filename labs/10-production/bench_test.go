package production_test

import (
	"context"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// BenchmarkSweep times one sweep of 20,000 day-old keys, alone on the
// database: the solution takes longer on purpose (it rests between
// batches). What matters is what the requests beside it see, which only
// make lab-10 measures.
//
//	go test ./labs/10-production -run '^$' -bench Sweep -benchtime 5x
func BenchmarkSweep(b *testing.B) {
	const backlog = 20_000
	db := pgtest.DB(b)
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			s := impl.Of(db.Pool)
			for b.Loop() {
				b.StopTimer()
				pgtest.Truncate(b, db)
				seed(b, db.Pool, "old", backlog, 25*time.Hour)
				b.StartTimer()
				if n, err := s.Sweep(context.Background(), time.Now().Add(-server.KeyRetention)); err != nil || n != backlog {
					b.Fatalf("Sweep = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(backlog)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}
