package buffers_test

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

// bodies are the fixed work of the budgets: 20 request bodies of 50 lines, as
// the load generator sends them (about 5 KB each).
func bodies() [][]byte {
	out := make([][]byte, 20)
	for i := range out {
		out[i] = load.Body(2, i, 50)
	}
	return out
}

// Once the pool is warm, a reader that reuses its memory allocates nothing
// for a body. The budgets leave room for a pool refilled after a GC (sync.Pool
// empties itself over two GCs), not for copies of the body.
var (
	objectBudget = labtest.Budget{
		Lab:     2,
		Count:   "objects allocated per request (20 bodies of 50 lines, about 5 KB each)",
		Max:     2,
		Why:     "io.ReadAll grows its buffer by doubling, then the body is copied to a string, split, and every line copied back to []byte.",
		Profile: "after-allocs",
		Look:    "switch the sample to alloc_objects: which frames under ReadLines allocate most often?",
		Read:    "labs/02-buffers/README.md, hints 1 and 2.",
	}
	byteBudget = labtest.Budget{
		Lab:     2,
		Count:   "bytes allocated per request (the same 20 bodies)",
		Max:     512,
		Why:     "the body is allocated about five times over per request, and nothing is reused between requests.",
		Profile: "after-allocs",
		Look:    "alloc_space: which frames under ReadLines allocate the most bytes? Compare with alloc_objects.",
		Read:    "labs/02-buffers/README.md, hints 1 and 2.",
	}
)

// perRequest runs every body through r runs times and returns the objects
// and bytes allocated per request.
func perRequest(r server.BodyReader, bs [][]byte, runs int) (objects, bytesPer float64) {
	i := 0
	one := func() {
		lines, release, _ := r.ReadLines(bytes.NewReader(bs[i%len(bs)]))
		_ = lines
		release()
		i++
	}
	objects = testing.AllocsPerRun(runs, one) // warms up with one run first
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		one()
	}
	runtime.ReadMemStats(&after)
	return objects, float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

func TestObjectBudget(t *testing.T) {
	labtest.NeedsNoRace(t, "under the race detector sync.Pool drops a quarter of what it is given")
	bs := bodies()
	labtest.Judge(t, objectBudget, all, func(t *testing.T, impl labtest.Impl[server.BodyReader]) labtest.Count {
		objects, _ := perRequest(impl.Of, bs, 200)
		return labtest.Count{Value: objects}
	})
}

func TestByteBudget(t *testing.T) {
	labtest.NeedsNoRace(t, "under the race detector sync.Pool drops a quarter of what it is given")
	bs := bodies()
	labtest.Judge(t, byteBudget, all, func(t *testing.T, impl labtest.Impl[server.BodyReader]) labtest.Count {
		_, b := perRequest(impl.Of, bs, 200)
		return labtest.Count{Value: b}
	})
}
