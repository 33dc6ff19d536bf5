package copies_test

import (
	"io"
	"runtime"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// One request's encoding: its audit record, its answer, and a page of its 50
// events as GET /users/{id}/events would write them.
func encodeRequest(enc server.Encoder, evs []server.Event, page []server.StoredEvent) int {
	rec, err := enc.AuditRecord(requestID, received, evs)
	if err != nil {
		panic(err)
	}
	_ = enc.WriteAccepted(io.Discard, requestID, len(evs))
	_ = enc.WriteEvents(io.Discard, 42, page)
	return len(rec)
}

// The audit record must outlive the call, so one allocation of its size per
// request is the floor; the budgets leave room for that and a pool refilled
// after a GC, not for anything per event.
var (
	allocBudget = labtest.Budget{
		Lab:     4,
		Count:   "allocations per encoded event (a request of 50: its audit record, its answer and a page of its events)",
		Max:     0.1,
		Why:     "a map[string]any per event, an interface box per number, a string per time, and encoding/json's reflection over all of it.",
		Profile: "after-allocs",
		Look:    "alloc_objects: what allocates under AuditRecord and WriteEvents? Then go build -gcflags=-m ./labs/04-copies/exercise/: what escapes?",
		Read:    "labs/04-copies/README.md, hints 1 and 2.",
	}
	bytesBudget = labtest.Budget{
		Lab:     4,
		Count:   "bytes allocated per request, as a multiple of its audit record's size",
		Max:     1.5,
		Why:     "every event is built as a map, encoded through reflection into growing buffers, and the record copied on its way out.",
		Profile: "after-allocs",
		Look:    "alloc_space: which frames allocate the bytes? How big is the record, and how many times is it built?",
		Read:    "labs/04-copies/README.md, hint 2.",
	}
)

func TestAllocBudget(t *testing.T) {
	labtest.NeedsNoRace(t, "under the race detector sync.Pool drops a quarter of what it is given")
	evs := request(1, 50)
	page := stored(evs)
	labtest.Judge(t, allocBudget, all, func(t *testing.T, impl labtest.Impl[server.Encoder]) labtest.Count {
		per := testing.AllocsPerRun(200, func() { encodeRequest(impl.Of, evs, page) })
		return labtest.Count{Value: per / float64(len(evs))}
	})
}

func TestBytesBudget(t *testing.T) {
	labtest.NeedsNoRace(t, "under the race detector sync.Pool drops a quarter of what it is given")
	evs := request(1, 50)
	page := stored(evs)
	labtest.Judge(t, bytesBudget, all, func(t *testing.T, impl labtest.Impl[server.Encoder]) labtest.Count {
		size := encodeRequest(impl.Of, evs, page) // also warms the pool
		const runs = 200
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			encodeRequest(impl.Of, evs, page)
		}
		runtime.ReadMemStats(&after)
		perRequest := float64(after.TotalAlloc-before.TotalAlloc) / runs
		return labtest.Count{Value: perRequest / float64(size), Detail: fmtBytes(perRequest, size)}
	})
}

func fmtBytes(perRequest float64, record int) string {
	return labtest.Plain(perRequest) + " bytes for a record of " + labtest.Plain(float64(record))
}
