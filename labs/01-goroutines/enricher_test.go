// The correctness tests of lab 01-goroutines. They judge every implementation
// of the enricher (or those named by FLAMELAB_IMPL, as make check-1 does): the
// same routes as the baseline, for every event, from empty input to 10,000
// events, under -race. budget_test.go counts goroutines; bench_test.go times
// them; alternatives_test.go holds the other candidates the lesson measures.
package goroutines_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/01-goroutines/baseline"
	"github.com/flamelab/flamelab/labs/01-goroutines/exercise"
	"github.com/flamelab/flamelab/labs/01-goroutines/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

var all = map[labs.Impl]server.Enricher{
	labs.Baseline: baseline.New(),
	labs.Exercise: exercise.New(),
	labs.Solution: solution.New(),
}

// fixture returns n events as the load generator sends them, with a few
// paths that exercise every rule of server.Route.
func fixture(n int) []server.Event {
	evs := load.Events(1, n, n)
	odd := []string{"/", "/users/42/cart?x=1", "/a/0123456789abcdef0123/b", "/api/v1/orders/7/items/8", "/x//y/"}
	for i := range evs {
		if i%7 == 0 {
			evs[i].Path = odd[i/7%len(odd)]
		}
	}
	return evs
}

func TestSameRoutes(t *testing.T) {
	for _, n := range []int{0, 1, 50, 10_000} {
		want := fixture(n)
		baseline.New().Enrich(want)
		for _, impl := range labtest.Under(t, all) {
			t.Run(fmt.Sprintf("%s/%d events", impl.Name, n), func(t *testing.T) {
				got := fixture(n)
				impl.Of.Enrich(got)
				if !reflect.DeepEqual(got, want) {
					for i := range got {
						if got[i] != want[i] {
							t.Fatalf("event %d: route %q, the baseline's %q (path %q)", i, got[i].Route, want[i].Route, got[i].Path)
						}
					}
					t.Fatal("events differ from the baseline's")
				}
			})
		}
	}
}

// TestConcurrentCalls: requests enrich their own events at the same time.
func TestConcurrentCalls(t *testing.T) {
	want := fixture(200)
	baseline.New().Enrich(want)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			t.Parallel()
			for range 8 {
				t.Run("caller", func(t *testing.T) {
					t.Parallel()
					got := fixture(200)
					impl.Of.Enrich(got)
					if !reflect.DeepEqual(got, want) {
						t.Error("events differ from the baseline's")
					}
				})
			}
		})
	}
}
