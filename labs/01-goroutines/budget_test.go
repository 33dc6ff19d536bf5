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

// wakeupBudget: goroutines woken (made runnable and then run) per Enrich of
// 1,000 events. Creating none is not enough: a pool of long-lived workers
// fed one event per channel send creates no goroutine per call, and wakes
// one per event, which costs the scheduler what creating them did. A loop
// wakes none; a pool handed one chunk per worker wakes a few per call.
var wakeupBudget = labtest.Budget{
	Lab:     1,
	Count:   "goroutines woken per Enrich of 1,000 events (the least of five windows of 20 calls; the runtime samples 1 in 8 wake-ups, so the count is an estimate)",
	Max:     16,
	Why:     "every event is handed to another goroutine, which must be woken and scheduled to do about a hundred nanoseconds of work.",
	Profile: "after-cpu",
	Look: "search for runtime.ready, runtime.schedule and runtime.findRunnable, and the channel's chansend and chanrecv: how wide next to server.Route?\n" +
		"  Or count them yourself: runtime/metrics' /sched/latencies:seconds counts one in eight wake-ups.",
	Read: "labs/01-goroutines/README.md, hints 1 and 2.",
}

func TestWakeupBudget(t *testing.T) {
	const calls, events = 20, 1000
	labtest.Judge(t, wakeupBudget, all, func(t *testing.T, impl labtest.Impl[server.Enricher]) labtest.Count {
		evs := fixture(events)
		impl.Of.Enrich(evs)
		return labtest.Count{Value: wakeups(func() { impl.Of.Enrich(evs) }, calls)}
	})
}

// wakeups returns about how many goroutines f makes runnable and runs per
// call: the count of /sched/latencies:seconds, which the runtime records for
// one in eight of them (gTrackingPeriod), times eight, over calls calls. The
// counter is the process's, so anything else that wakes a goroutine
// meanwhile (the GC's workers, the test framework, what the previous
// implementation left running) adds to it, and never subtracts: so it is
// counted over five windows and the smallest is kept. (Once, in CI, a single
// window charged the loop with 1,520 wake-ups per call.)
func wakeups(f func(), calls int) float64 {
	best := -1.0
	for range 5 {
		runtime.GC()
		before := schedSamples()
		for range calls {
			f()
		}
		n := 8 * float64(schedSamples()-before) / float64(calls)
		if best < 0 || n < best {
			best = n
		}
	}
	return best
}

func schedSamples() uint64 {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	var n uint64
	for _, c := range s[0].Value.Float64Histogram().Counts {
		n += c
	}
	return n
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
