// The correctness tests of lab 03-locks. They judge every implementation of
// the statistics (or those named by FLAMELAB_IMPL, as make check-3 does): the
// baseline's /stats for the same events, including with Observe and WriteJSON
// running concurrently (under -race). budget_test.go checks that a stalled
// /stats reader does not stall ingest; bench_test.go times two read:write
// mixes; alternatives_test.go holds the other candidate fixes.
package locks_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/03-locks/baseline"
	"github.com/flamelab/flamelab/labs/03-locks/exercise"
	"github.com/flamelab/flamelab/labs/03-locks/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

var all = map[labs.Impl]func() server.Stats{
	labs.Baseline: func() server.Stats { return baseline.New() },
	labs.Exercise: func() server.Stats { return exercise.New() },
	labs.Solution: func() server.Stats { return solution.New() },
}

// request returns request i's events, routed as the enricher would.
func request(i int) []server.Event {
	evs := load.Events(3, i, 50)
	for j := range evs {
		evs[j].Route = server.Route(evs[j].Path)
	}
	return evs
}

func report(t testing.TB, s server.Stats) server.StatsReport {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var r server.StatsReport
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatalf("/stats is not a StatsReport: %v", err)
	}
	return r
}

func TestSameStats(t *testing.T) {
	want := baseline.New()
	for i := range 200 {
		want.Observe(request(i))
	}
	wantR := report(t, want)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			s := impl.Of()
			if got := report(t, s); got.Events != 0 || len(got.TopUsers) != 0 {
				t.Errorf("empty statistics report %+v", got)
			}
			for i := range 200 {
				s.Observe(request(i))
			}
			if got := report(t, s); !reflect.DeepEqual(got, wantR) {
				t.Errorf("/stats differs from the baseline's:\n got %+v\nwant %+v", got, wantR)
			}
		})
	}
}

// TestConcurrent: 8 writers and 2 readers at once; the end result is the
// baseline's, and every intermediate report is consistent (its counts add
// up), which a reader that saw a half-applied request would break.
func TestConcurrent(t *testing.T) {
	want := baseline.New()
	for i := range 160 {
		want.Observe(request(i))
	}
	wantR := report(t, want)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			s := impl.Of()
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := range 20 {
						s.Observe(request(w*20 + i))
					}
				})
			}
			done := make(chan struct{})
			var readers sync.WaitGroup
			for range 2 {
				readers.Go(func() {
					for {
						r := report(t, s)
						var classes int64
						for _, n := range r.ByStatusClass {
							classes += n
						}
						if classes != r.Events || r.Latency.Count != r.Events {
							t.Errorf("an inconsistent report: %d events, %d by status class, %d latencies", r.Events, classes, r.Latency.Count)
							return
						}
						select {
						case <-done:
							return
						default:
						}
					}
				})
			}
			wg.Wait()
			close(done)
			readers.Wait()
			if got := report(t, s); !reflect.DeepEqual(got, wantR) {
				t.Errorf("after concurrent writers, /stats differs from the baseline's")
			}
		})
	}
}
