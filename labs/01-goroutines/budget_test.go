package goroutines_test

import (
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// goroutineBudget: at most GOMAXPROCS goroutines per Enrich of 1,000 events,
// plus one: the counter is the process's, and the runtime or the test
// framework may start one meanwhile. That allows the two fixes that can pay:
// none at all (a loop), or one worker per processor. One goroutine per event
// is 1,000.
var goroutineBudget = labtest.Budget{
	Lab:     1,
	Count:   "goroutines started per Enrich of 1,000 events (20 calls)",
	Max:     float64(runtime.GOMAXPROCS(0) + 1),
	Why:     "one goroutine per event: each costs a creation, a stack and two trips through the scheduler, several times the route it computes.",
	Profile: "after-cpu",
	Look: "search for runtime.newproc1, runtime.schedule, runtime.findRunnable, runtime.gopark: how wide are they next to server.Route?\n" +
		"  Or count them yourself: runtime/metrics' /sched/goroutines-created:goroutines before and after a call.",
	Read: "labs/01-goroutines/README.md, hints 1 and 2.",
}

func TestGoroutineBudget(t *testing.T) {
	const calls, events = 20, 1000
	labtest.Judge(t, goroutineBudget, all, func(t *testing.T, impl labtest.Impl[server.Enricher]) labtest.Count {
		evs := fixture(events)
		impl.Of.Enrich(evs) // warm: a pool may start its workers once
		before := created()
		for range calls {
			impl.Of.Enrich(evs)
		}
		return labtest.Count{Value: float64(created()-before) / calls}
	})
}

// created reads how many goroutines this process has started so far.
func created() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
