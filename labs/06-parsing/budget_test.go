package parsing_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// allocBudget: at most one allocation per parsed line (the Path string,
// which must outlive the request body).
var allocBudget = labtest.Budget{
	Lab:     6,
	Count:   "allocations per line (the load generator's lines)",
	Max:     1,
	Why:     "every field goes through strings.Fields, a regexp match, a map and a conversion, each allocating.",
	Profile: "after-allocs",
	Look: "which frames under Parse allocate? Or profile the benchmark alone:\n" +
		"  go test -run '^$' -bench 'Parse/impl=exercise' -benchmem -memprofile mem.out ./labs/06-parsing/ && go tool pprof -http=127.0.0.1:8081 mem.out",
	Read: "labs/06-parsing/README.md, hint 1.",
}

func TestAllocsBudget(t *testing.T) {
	lines := corpus()
	labtest.Judge(t, allocBudget, all, func(t *testing.T, impl labtest.Impl[server.Parser]) labtest.Count {
		i := 0
		perLine := testing.AllocsPerRun(len(lines), func() {
			if _, err := impl.Of.Parse(lines[i%len(lines)]); err != nil {
				t.Fatal(err)
			}
			i++
		})
		return labtest.Count{Value: perLine}
	})
}

// cpuBudget: over a fixed amount of work per line (parse it, then do what
// the server does next), the parser's cumulative share of a CPU profile must
// be at most half the baseline's. A share, not a time: it does not depend on
// how fast this machine is, only on where the work goes.
var cpuBudget = labtest.Budget{
	Lab:        6,
	Count:      "the parser's share of the work loop in a CPU profile (300,000 lines parsed, then routed and encoded; GC workers excluded)",
	OfBaseline: 0.5,
	// The lesson's premise: the parser is the hot spot (40% in the article).
	Premise: 0.3,
	Format:  labtest.Percent,
	Why:     "a regexp match and several allocations per field, six fields per line, every line of every request.",
	Profile: "after-cpu",
	Look: "which frames under Parse are widest? Or profile the benchmark alone:\n" +
		"  go test -run '^$' -bench 'Parse/impl=exercise' -cpuprofile cpu.out ./labs/06-parsing/ && go tool pprof -http=127.0.0.1:8081 cpu.out",
	Read: "labs/06-parsing/README.md, hint 2.",
}

func TestCPUShareBudget(t *testing.T) {
	labtest.NeedsNoRace(t, "CPU shares under the race detector measure the detector")
	lines := corpus()
	// The same fixed work for every implementation, enough for some 300
	// CPU samples (pprof samples at 100 Hz) even with a fast parser.
	const n = 300_000
	labtest.Judge(t, cpuBudget, all, func(t *testing.T, impl labtest.Impl[server.Parser]) labtest.Count {
		return labtest.Count{Value: cpuShare(t, impl.Name, impl.Of, lines, n)}
	})
}

// next stands for the rest of the request path in the CPU budget: a fixed
// amount of work per line that does not depend on the parser. It is what the
// server does next with an event: derive its route and encode an audit
// record. The encoding is a plain encoding/json of a map, as a first version
// of any audit trail would write it, rather than another lab's code, so that
// this budget moves only with lab 06's work.
func next(ev server.Event) int {
	ev.Route = server.Route(ev.Path)
	rec, _ := json.Marshal(map[string]any{
		"request_id": "00000000-0000-0000-0000-000000000000",
		"events": []map[string]any{{
			"ts": ev.Time.Format(time.RFC3339Nano), "user": ev.UserID, "path": ev.Path, "route": ev.Route,
			"status": ev.Status, "latency_ms": ev.LatencyMS, "bytes": ev.Bytes,
		}},
	})
	return len(rec)
}

// cpuShare profiles n lines of parse-then-next and returns the share of
// the implementation's package in the CPU profile.
func cpuShare(t *testing.T, name labs.Impl, p server.Parser, lines [][]byte, n int) float64 {
	t.Helper()
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatalf("cannot take a CPU profile (%v); do not run this test with go test -cpuprofile", err)
	}
	sink := 0
	for i := range n {
		ev, err := p.Parse(lines[i%len(lines)])
		if err != nil {
			pprof.StopCPUProfile()
			t.Fatal(err)
		}
		sink += next(ev)
	}
	pprof.StopCPUProfile()
	prof, err := profile.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	lab, _ := labs.ByNumber(6)
	share, err := flame.FuncShare(prof, regexp.MustCompile("^"+regexp.QuoteMeta(lab.Package(name))+`\.`), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	// The share is of the work loop's samples, not of the whole process:
	// the garbage collector's background workers (the baseline's
	// allocations feed them) and whatever else the runtime does run on
	// other goroutines, and on a busy machine their part of the profile
	// swung the baseline's share between 28% and 49%.
	loop, err := flame.FuncShare(prof, regexp.MustCompile(`parsing_test\.cpuShare$`), "cpu")
	if err != nil {
		t.Fatal(err)
	}
	if samples := len(prof.Sample); samples < 20 || sink == 0 || loop.Cum == 0 {
		t.Fatalf("%s: only %d distinct stacks sampled; too few to judge a share", name, samples)
	}
	return share.Cum / loop.Cum
}
