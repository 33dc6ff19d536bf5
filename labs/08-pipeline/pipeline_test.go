// The correctness tests of lab 08-pipeline. A pipeline runs inside lab 07's
// batching store, so every implementation is judged twice: on its own,
// against server.Pipeline's contract with a fake store (every batch flushed
// exactly once, next never called twice at once, Run returning only after
// every flush, the batches in flight bounded), and inside lab 07's solution
// against a real Postgres with lab 07's whole store suite
// (labs/internal/storetest): the same rows and reads, atomic requests,
// idempotency keys racing across batches in flight, Close draining, and
// nothing acknowledged lost or doubled when the connections die. The
// implementations are those FLAMELAB_IMPL names (make check-8), or all.
package pipeline_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/flamelab/flamelab/labs"
	store "github.com/flamelab/flamelab/labs/07-batching/solution"
	"github.com/flamelab/flamelab/labs/08-pipeline/baseline"
	"github.com/flamelab/flamelab/labs/08-pipeline/exercise"
	"github.com/flamelab/flamelab/labs/08-pipeline/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/storetest"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type newPipeline = func() server.Pipeline

var all = map[labs.Impl]newPipeline{
	labs.Baseline: func() server.Pipeline { return baseline.New() },
	labs.Exercise: func() server.Pipeline { return exercise.New() },
	labs.Solution: func() server.Pipeline { return solution.New(solution.Options{}) },
}

// storeWith is lab 07's batching store running the pipeline p makes.
func storeWith(p newPipeline) storetest.New {
	return func(pool *pgxpool.Pool) server.Store {
		return store.New(pool, store.Options{Pipeline: p()})
	}
}

// stores are lab 07's store, once per pipeline.
func stores() storetest.Impls {
	out := storetest.Impls{}
	for name, p := range all {
		out[name] = storeWith(p)
	}
	return out
}

func TestSameResults(t *testing.T)       { storetest.SameResults(t, stores(), "lab8") }
func TestKilledConnections(t *testing.T) { storetest.KilledConnections(t, stores(), "lab8") }
func TestAtomicRequest(t *testing.T)     { storetest.AtomicRequest(t, stores(), "lab8") }
func TestIdempotencyKeys(t *testing.T)   { storetest.IdempotencyKeys(t, stores(), "lab8") }
func TestCloseDrains(t *testing.T)       { storetest.CloseDrains(t, stores(), "lab8") }

// fakeStore hands a pipeline batches whose flushes wait at a gate, and
// records what the pipeline did with them.
type fakeStore struct {
	batches int           // how many next hands out before reporting none
	gate    chan struct{} // closed to let every flush but the last finish
	last    chan struct{} // closed to let the last batch's flush finish
	// nextCalled is sent to on every call of next, for a test that
	// waits for the pipeline to ask.
	nextCalled chan int

	mu        sync.Mutex
	handed    int
	flushed   []int // per batch: how many times its flush ran
	inNext    bool
	nextTwice bool
	maxSeen   int // the most batches in flight at once
	finished  atomic.Int64
}

func newFake(batches int) *fakeStore {
	return &fakeStore{batches: batches, gate: make(chan struct{}), last: make(chan struct{}), nextCalled: make(chan int, batches+1), flushed: make([]int, batches)}
}

func (f *fakeStore) next() (func(), bool) {
	f.mu.Lock()
	if f.inNext {
		f.nextTwice = true
	}
	f.inNext = true
	i := f.handed
	f.handed++
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inNext = false; f.mu.Unlock() }()
	f.nextCalled <- i
	if i >= f.batches {
		return nil, false
	}
	// In flight: handed out and not finished, whether or not its flush
	// has started to run.
	f.mu.Lock()
	f.maxSeen = max(f.maxSeen, i+1-int(f.finished.Load()))
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.flushed[i]++
		f.mu.Unlock()
		<-f.gate
		if i == f.batches-1 {
			<-f.last
		}
		f.finished.Add(1)
	}, true
}

// TestRunContract holds every pipeline to server.Pipeline's contract with
// a fake store of 64 batches, all ready at once, whose flushes wait at a
// gate.
//
// The gate opens when the pipeline has asked for more batches than any
// bounded pipeline may hold (maxInFlight), or after a second: a guard, not
// a timing (a pipeline that waits for its flushes before it asks again is
// still waiting then). The last batch's flush waits longer: until Run has
// returned, or a second after the gate. A Run that returns before its
// flushes have returned therefore returns while that flush is still
// blocked, however fast or slow the machine.
func TestRunContract(t *testing.T) {
	const batches, maxInFlight = 64, 16 // half the server's pool: reads need connections too
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			f := newFake(batches)
			returned := make(chan int64)
			go func() {
				impl.Of().Run(f.next)
				returned <- f.finished.Load()
			}()
			var finishedAtReturn int64 = -1
			guard := time.After(time.Second)
		ask:
			for {
				select {
				case i := <-f.nextCalled:
					if i > maxInFlight {
						break ask
					}
				case <-guard:
					break ask
				case n := <-returned:
					finishedAtReturn = n
					break ask
				}
			}
			close(f.gate)
			if finishedAtReturn < 0 {
				select {
				case finishedAtReturn = <-returned:
				case <-time.After(time.Second):
				}
			}
			close(f.last)
			if finishedAtReturn < 0 {
				select {
				case finishedAtReturn = <-returned:
				case <-time.After(30 * time.Second): // a guard against a hang
					t.Fatal("Run did not return 30 s after every flush could finish")
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if finishedAtReturn != batches {
				t.Errorf("Run returned with %d of %d flushes finished: it must return only once every flush it started has returned (the store's Close relies on it)", finishedAtReturn, batches)
			}
			for i, n := range f.flushed {
				if n != 1 {
					t.Errorf("batch %d was flushed %d times, want exactly once", i, n)
				}
			}
			if f.nextTwice {
				t.Error("next was called while another call of next was running: it must not be (it gathers from one queue)")
			}
			if f.maxSeen > maxInFlight {
				t.Errorf("%d batches in flight at once, more than %d: a bounded pipeline keeps connections for the reads, and batches big enough to share a commit", f.maxSeen, maxInFlight)
			}
			t.Logf("%s: at most %d batches in flight", impl.Name, f.maxSeen)
		})
	}
}
