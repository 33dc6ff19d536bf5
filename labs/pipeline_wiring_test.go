package labs_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/storetest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

// TestBuildWiresThePipeline: the store labs.Build assembles for lab 7's
// solution runs its batches through the pipeline lab 8's choice picks. The
// wiring is easy to break unseen (lab 7's builder reads s.Pipeline, which
// exists only because Build builds the last lab first): the server would
// still work, one batch at a time, and only the reports' batches-in-flight
// row would say so. The count is the one of lab 08's budget: COPYs in
// flight while the test holds every COPY into events behind a lock.
func TestBuildWiresThePipeline(t *testing.T) {
	for _, tc := range []struct {
		choice labs.Choice
		want   int64
	}{
		{labs.Fix(7), 1},    // lab 8 at its baseline: lab 07's loop
		{labs.Fix(7, 8), 2}, // lab 8's solution: two in flight
	} {
		t.Run(tc.choice.Flag(), func(t *testing.T) {
			ctx := context.Background()
			db := pgtest.DB(t)
			pgtest.Truncate(t, db)
			trips := &postgres.RoundTrips{}
			pool, err := postgres.NewPool(ctx, db.URL, trips)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			stages, err := labs.Build(labs.Env{Pool: pool, AuditPath: filepath.Join(t.TempDir(), "audit.log")}, tc.choice)
			if err != nil {
				t.Fatal(err)
			}
			defer labs.Close(stages)

			release := storetest.HoldCopies(t)
			var wg sync.WaitGroup
			insert := func(i int) {
				wg.Go(func() {
					req := server.Request{ID: storetest.RequestID(i), Events: make([]server.Event, 3)}
					if _, err := stages.Store.Insert(ctx, req); err != nil {
						t.Error(err)
					}
				})
			}
			insert(0)
			if storetest.CopiesInFlight(trips, 1) != 1 {
				t.Fatal("the first request's COPY never started: the store did not reach the database")
			}
			for i := 1; i < 8; i++ {
				insert(i)
			}
			got := storetest.CopiesInFlight(trips, 8)
			release()
			wg.Wait()
			if got != tc.want {
				t.Errorf("%d COPYs in flight behind the lock, want %d: lab 7's store does not run lab 8's chosen pipeline", got, tc.want)
			}
		})
	}
}
