package pipeline_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/storetest"
)

// TestBatchesInFlight is the lab's budget: how many batches the store has
// in flight while the database holds up a commit. The test holds it up
// itself: its own transaction takes a SHARE lock on the events table,
// which every COPY into it (ROW EXCLUSIVE) must wait for; one request
// arrives, and once its COPY waits, 15 more at once. The count is the COPYs started and not ended
// (pgx's tracer, postgres.RoundTrips) once no more start, read after a
// guard of two seconds: a bounded pipeline has long since started all it
// will by then, and the count does not depend on when it is read.
//
// One at a time, the baseline's count is 1, however many requests wait:
// the COPY behind the held lock is the only one in flight, and every other
// request waits for it to commit before its batch is even gathered.
func TestBatchesInFlight(t *testing.T) {
	const requests, lines = 16, 10
	b := labtest.Budget{
		Lab:   8,
		Count: fmt.Sprintf("batches in flight while a commit is held up (%d requests of %d events, all but the first while it waits)", requests, lines),
		Min:   2,
		Why: "with one batch in flight, every request that arrives while it commits waits for that whole COPY and commit before its own batch is even gathered: " +
			"the disk, the connection and the cores take turns instead of working at once.",
		Profile: "after-fgprof",
		Look:    "wall clock: how much of the handler's time is spent in lab 07's Store.Insert, waiting, and how busy is the writer goroutine under Run?",
		Read:    "labs/08-pipeline/README.md, hints 1 and 2.",
	}
	labtest.Judge(t, b, all, func(t *testing.T, impl labtest.Impl[newPipeline]) labtest.Count {
		pool, trips := storetest.Setup(t, "lab8-inflight")
		s := storetest.Open(t, storeWith(impl.Of), pool)
		release := storetest.HoldCopies(t)
		var wg sync.WaitGroup
		send := func(i int) {
			wg.Go(func() {
				if err := storetest.Insert(s, storetest.RequestID(i), storetest.Events(i, lines)); err != nil {
					t.Error(err)
				}
			})
		}
		// The first request alone, until its batch waits for the lock;
		// then the rest, which arrive while a commit is held up. (All at
		// once, they might all be queued before the first batch is
		// gathered, and make one batch: a count of 1 whatever the
		// pipeline.)
		send(0)
		if storetest.CopiesInFlight(trips, 1) == 0 {
			t.Fatal("no COPY in flight with a request waiting: the store did not reach the database, and the test measured nothing")
		}
		for i := 1; i < requests; i++ {
			send(i)
		}
		// Until every request is in a COPY (no bounded pipeline gets
		// there) or the guard passes.
		inFlight := storetest.CopiesInFlight(trips, requests)
		release()
		wg.Wait()
		started, _ := trips.Copies()
		if n := len(storetest.Stored(t, pool)); n != requests*lines {
			t.Errorf("%d events stored once the lock was released, want %d", n, requests*lines)
		}
		return labtest.Count{Value: float64(inFlight), Detail: fmt.Sprintf("%d COPYs in all for the %d requests", started, requests)}
	})
}
