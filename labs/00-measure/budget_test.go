package measure_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/00-measure/subject"
	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// run is one implementation's benchmark, run once by testing.Benchmark,
// with what the subject counted over its last round (the one the result
// is of).
type run struct {
	result testing.BenchmarkResult
	calls  int64
}

var (
	runsMu sync.Mutex
	runs   = map[labs.Impl]run{}
)

// benchmark runs impl's benchmark once per test binary: the three budgets
// read the same run.
func benchmark(t *testing.T, impl labtest.Impl[func(*testing.B)]) run {
	runsMu.Lock()
	defer runsMu.Unlock()
	if r, ok := runs[impl.Name]; ok {
		return r
	}
	var calls int64
	res := testing.Benchmark(func(b *testing.B) {
		subject.Reset()
		impl.Of(b)
		calls = subject.Calls()
	})
	if res.N == 0 {
		t.Fatalf("%s: the benchmark failed or never ran its loop", impl.Name)
	}
	runs[impl.Name] = run{res, calls}
	return runs[impl.Name]
}

// ownAllocs is what subject.Parse allocates per call by itself, over the
// bodies every benchmark cycles through.
func ownAllocs() float64 {
	bodies := subject.Bodies(64)
	i := 0
	return testing.AllocsPerRun(len(bodies)*4, func() {
		_, _ = subject.Parse(bodies[i%len(bodies)])
		i++
	})
}

const read = "labs/00-measure/README.md, section 5 and the hints"

// TestSetupBudget: an operation's allocations are the parse's, none of the
// setup's.
func TestSetupBudget(t *testing.T) {
	own := ownAllocs()
	labtest.Judge(t, labtest.Budget{
		Lab: 0, Count: "allocations per operation beyond the parses' own (testing.Benchmark, -benchmem's allocs/op)", Max: 0.5,
		Why:  "the benchmark builds its request bodies inside the timed loop, so every operation pays for, and counts, the setup",
		Look: "go test -bench Parse -benchmem ./labs/00-measure/: allocs/op of each implementation; the setup belongs before the loop (b.Loop starts the clock at its first call)",
		Read: read,
	}, impls, func(t *testing.T, impl labtest.Impl[func(*testing.B)]) labtest.Count {
		r := benchmark(t, impl)
		perOp := float64(r.result.MemAllocs) / float64(r.result.N)
		parses := float64(r.calls) / float64(r.result.N)
		return labtest.Count{Value: max(0, perOp-parses*own), Detail: fmt.Sprintf("%.1f allocations per operation, %.1f of them the parses'", perOp, parses*own)}
	})
}

// TestOperationBudget: one operation is one parse of one request's body,
// so ns/op is what a request's parse costs.
func TestOperationBudget(t *testing.T) {
	labtest.Judge(t, labtest.Budget{
		Lab: 0, Count: "parses per operation, off by (|parses/b.N - 1|)", Max: 0.01,
		Why:  "one operation of the benchmark is several parses, so its ns/op is not the cost of one",
		Look: "count what one iteration of the loop does: it should parse one body",
		Read: read,
	}, impls, func(t *testing.T, impl labtest.Impl[func(*testing.B)]) labtest.Count {
		r := benchmark(t, impl)
		parses := float64(r.calls) / float64(r.result.N)
		return labtest.Count{Value: math.Abs(parses - 1), Detail: fmt.Sprintf("%.2f parses per operation", parses)}
	})
}

// TestMetricBudget: the benchmark uses its results and says what it found:
// events/op, which must be the body's lines.
func TestMetricBudget(t *testing.T) {
	labtest.Judge(t, labtest.Budget{
		Lab: 0, Count: "events/op reported, off by (|events/op - 50|; none reported counts as 0)", Max: 0,
		Why:  "the benchmark throws every result away and reports nothing a reader could check",
		Look: "sum the events each parse returns and report them per operation: b.ReportMetric(float64(events)/float64(b.N), \"events/op\")",
		Read: read,
	}, impls, func(t *testing.T, impl labtest.Impl[func(*testing.B)]) labtest.Count {
		got := benchmark(t, impl).result.Extra["events/op"]
		return labtest.Count{Value: math.Abs(got - subject.Lines), Detail: fmt.Sprintf("it reported %v events/op", got)}
	})
}
