package batching_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// The budgets are round trips, counted with the pgx tracer
// (postgres.RoundTrips): each one waits for the database.
func tripsBudget(count string, limit float64) labtest.Budget {
	return labtest.Budget{
		Lab:     7,
		Count:   count,
		Max:     limit,
		Why:     "each statement is a round trip, and each round trip waits for the network and, for a commit, the disk.",
		Profile: "after-fgprof",
		Look:    "wall clock: how much of postEvents is spent in pgx's reads?",
		Read:    "labs/07-batching/README.md, hints 1 and 2.",
	}
}

type newStore = func(*pgxpool.Pool) server.Store

func TestWriteRoundTripsSerial(t *testing.T) {
	const requests = 10
	b := tripsBudget("round trips per request (10 requests of 50 events, one at a time)", 2)
	labtest.Judge(t, b, all, func(t *testing.T, impl labtest.Impl[newStore]) labtest.Count {
		pool, trips := setup(t, "lab7-serial")
		s := open(t, impl.Of, pool)
		trips.Reset()
		for i := range requests {
			if err := insert(s, requestID(i), events(i, 50)); err != nil {
				t.Fatal(err)
			}
		}
		return labtest.Count{Value: float64(trips.Total()) / requests, Detail: trips.String()}
	})
}

func TestWriteRoundTripsConcurrent(t *testing.T) {
	const clients, each = 16, 5
	b := tripsBudget("round trips per request (16 clients, 5 requests of 20 events each)", 1)
	labtest.Judge(t, b, all, func(t *testing.T, impl labtest.Impl[newStore]) labtest.Count {
		pool, trips := setup(t, "lab7-concurrent")
		s := open(t, impl.Of, pool)
		trips.Reset()
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for i := range each {
					if err := insert(s, requestID(c*100+i), events(c*100+i, 20)); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		got := labtest.Count{Value: float64(trips.Total()) / (clients * each), Detail: trips.String()}
		if n := len(stored(t, pool)); n != clients*each*20 {
			t.Errorf("%d rows stored, want %d", n, clients*each*20)
		}
		return got
	})
}

func TestReadRoundTrips(t *testing.T) {
	for _, limit := range []int{10, 1000} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			b := tripsBudget(fmt.Sprintf("round trips per Recent (a user with 300 events, limit %d)", limit), 2)
			b.Look = "wall clock: how much of getUserEvents is spent in pgx's reads? How many queries does one Recent make?"
			labtest.Judge(t, b, all, func(t *testing.T, impl labtest.Impl[newStore]) labtest.Count {
				pool, trips := setup(t, "lab7-read")
				evs := events(1, 300)
				for i := range evs {
					evs[i].UserID = 77
				}
				// Written by one store, closed (so drained), and read by
				// another: no write of the setup can be counted as a read.
				w := impl.Of(pool)
				if err := insert(w, requestID(1), evs); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				s := open(t, impl.Of, pool)
				trips.Reset()
				got, err := s.Recent(context.Background(), 77, limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != min(limit, 300) {
					t.Fatalf("Recent(limit %d) returned %d events", limit, len(got))
				}
				return labtest.Count{Value: float64(trips.Total()), Detail: trips.String()}
			})
		})
	}
}
