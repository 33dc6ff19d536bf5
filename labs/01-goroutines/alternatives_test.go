// The ways to spread a request's per-event work over goroutines that the
// lesson compares, each checked for the same results and its goroutines
// counted against the lab's budget; bench_test.go times them, over a sweep
// of work per item.
package goroutines_test

import (
	"reflect"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/flamelab/flamelab/labs/01-goroutines/baseline"
	"github.com/flamelab/flamelab/server"
)

// A method runs work(i) for every i in [0, n), in some goroutines.
type method struct {
	name string
	run  func(n int, work func(i int))
}

var methods = []method{
	{"goroutine-per-item", func(n int, work func(int)) { // the baseline
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { work(i) })
		}
		wg.Wait()
	}},
	{"inline", func(n int, work func(int)) { // the solution
		for i := range n {
			work(i)
		}
	}},
	{"pool", func(n int, work func(int)) { // GOMAXPROCS workers, one contiguous chunk each
		p := runtime.GOMAXPROCS(0)
		chunk := max(1, (n+p-1)/p)
		var wg sync.WaitGroup
		for start := 0; start < n; start += chunk {
			end := min(start+chunk, n)
			wg.Go(func() {
				for i := start; i < end; i++ {
					work(i)
				}
			})
		}
		wg.Wait()
	}},
	{"pool-per-event", func(n int, work func(int)) { // long-lived workers, one channel send per item
		var wg sync.WaitGroup
		wg.Add(n)
		for i := range n {
			perEventPool <- func() { work(i); wg.Done() }
		}
		wg.Wait()
	}},
	{"errgroup", func(n int, work func(int)) { // at most GOMAXPROCS at once, one goroutine per item
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i := range n {
			g.Go(func() error { work(i); return nil })
		}
		_ = g.Wait()
	}},
}

// perEventPool is the pool a hurried fix starts once and feeds one event at
// a time: no goroutine is created per call, so a budget of goroutines
// created passes it, yet every event is a handoff that wakes a worker.
var perEventPool = func() chan func() {
	ch := make(chan func(), 64)
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for f := range ch {
				f()
			}
		}()
	}
	return ch
}()

// enrichWith is an Enricher that spreads its events the way m does.
func enrichWith(m method) func([]server.Event) {
	return func(evs []server.Event) {
		m.run(len(evs), func(i int) { evs[i].Route = server.Route(evs[i].Path) })
	}
}

// TestAlternatives: every method gives the baseline's routes; and the budget
// tells them apart. errgroup's SetLimit bounds how many goroutines run at
// once, not how many are started: it is over the budget like the baseline.
func TestAlternatives(t *testing.T) {
	want := fixture(1000)
	baseline.New().Enrich(want)
	for _, m := range methods {
		got := fixture(1000)
		enrichWith(m)(got)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: routes differ from the baseline's", m.name)
		}
		// Counted over 20 calls, as the budget counts: the counter is the
		// process's, and a goroutine the runtime or the test framework
		// starts meanwhile must not decide the verdict.
		before := created()
		for range 20 {
			enrichWith(m)(got)
		}
		n := float64(created()-before) / 20
		w := wakeups(func() { enrichWith(m)(got) }, 20)
		within := n <= goroutineBudget.Max && w <= wakeupBudget.Max
		t.Logf("%s: %.2f goroutines created, about %.0f woken, per 1,000 events (budgets %v and %v: within=%v)", m.name, n, w, goroutineBudget.Max, wakeupBudget.Max, within)
		if wantWithin := m.name == "inline" || m.name == "pool"; within != wantWithin {
			t.Errorf("%s: within the budgets = %v, want %v", m.name, within, wantWithin)
		}
	}
}
