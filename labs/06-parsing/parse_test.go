// The tests of lab 06-parsing. They judge every implementation of the parser
// (or those named by FLAMELAB_IMPL, as make check-6 does): same results and
// same errors as the baseline, and the lab's budgets, which are counts.
package parsing_test

import (
	"bytes"
	"fmt"
	"reflect"
	"regexp"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	encoder "github.com/flamelab/flamelab/labs/04-copies/baseline"
	"github.com/flamelab/flamelab/labs/06-parsing/baseline"
	"github.com/flamelab/flamelab/labs/06-parsing/exercise"
	"github.com/flamelab/flamelab/labs/06-parsing/solution"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

var all = map[labs.Impl]server.Parser{
	labs.Baseline: baseline.New(),
	labs.Exercise: exercise.New(),
	labs.Solution: solution.New(),
}

var reference server.Parser = baseline.New()

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

const valid = "ts=2026-11-25T07:39:56Z user=42 path=/cart status=200 latency_ms=12 bytes=512"

var want42 = server.Event{Time: ts("2026-11-25T07:39:56Z"), UserID: 42, Path: "/cart", Status: 200, LatencyMS: 12, Bytes: 512}

// cases are the table of TestParse; FuzzParse starts from them too.
var cases = []struct {
	name, line string
	want       server.Event
	err        string // the whole message; "" means valid
}{
	{"canonical", valid, want42, ""},
	{"any order", "bytes=512 status=200 path=/cart ts=2026-11-25T07:39:56Z latency_ms=12 user=42", want42, ""},
	{"extra spaces and tabs", "  ts=2026-11-25T07:39:56Z \t user=42   path=/cart\tstatus=200 latency_ms=12 bytes=512 \t", want42, ""},
	{"fractional seconds and offset", "ts=2026-11-25T08:39:56.25+01:00 user=42 path=/cart status=200 latency_ms=12 bytes=512",
		server.Event{Time: ts("2026-11-25T08:39:56.25+01:00"), UserID: 42, Path: "/cart", Status: 200, LatencyMS: 12, Bytes: 512}, ""},
	{"leap day", strings.Replace(valid, "2026-11-25", "2024-02-29", 1),
		server.Event{Time: ts("2024-02-29T07:39:56Z"), UserID: 42, Path: "/cart", Status: 200, LatencyMS: 12, Bytes: 512}, ""},
	{"leading zeros", strings.Replace(valid, "user=42", "user=0042", 1), want42, ""},
	{"value holding '='", strings.Replace(valid, "path=/cart", "path=/cart?a=b", 1),
		server.Event{Time: want42.Time, UserID: 42, Path: "/cart?a=b", Status: 200, LatencyMS: 12, Bytes: 512}, ""},
	{"largest values", "ts=2026-11-25T07:39:56Z user=9223372036854775807 path=/ status=599 latency_ms=2147483647 bytes=9223372036854775807",
		server.Event{Time: want42.Time, UserID: 1<<63 - 1, Path: "/", Status: 599, LatencyMS: 1<<31 - 1, Bytes: 1<<63 - 1}, ""},

	{"empty", "", server.Event{}, "empty line"},
	{"blanks only", " \t ", server.Event{}, "empty line"},
	{"missing field", "ts=2026-11-25T07:39:56Z user=42 path=/cart status=200 latency_ms=12", server.Event{}, "bytes: missing"},
	{"missing first in field order", "status=200 latency_ms=12", server.Event{}, "ts: missing"},
	{"bad int", strings.Replace(valid, "status=200", "status=2x0", 1), server.Event{}, `status: not a non-negative integer: "2x0"`},
	{"signed int", strings.Replace(valid, "user=42", "user=+42", 1), server.Event{}, `user: not a non-negative integer: "+42"`},
	{"negative int", strings.Replace(valid, "bytes=512", "bytes=-1", 1), server.Event{}, `bytes: not a non-negative integer: "-1"`},
	{"status out of range", strings.Replace(valid, "status=200", "status=600", 1), server.Event{}, `status: "600" out of range [100, 599]`},
	{"int64 overflow", strings.Replace(valid, "user=42", "user=9223372036854775808", 1), server.Event{}, `user: "9223372036854775808" out of range [0, 9223372036854775807]`},
	{"overflow before garbage", strings.Replace(valid, "user=42", "user=99999999999999999999x", 1), server.Event{}, `user: "99999999999999999999x" out of range [0, 9223372036854775807]`},
	{"garbage before overflow", strings.Replace(valid, "user=42", "user=9x999999999999999999", 1), server.Event{}, `user: not a non-negative integer: "9x999999999999999999"`},
	{"latency over int32", strings.Replace(valid, "latency_ms=12", "latency_ms=2147483648", 1), server.Event{}, `latency_ms: "2147483648" out of range [0, 2147483647]`},
	{"bad time", strings.Replace(valid, "2026-11-25T07:39:56Z", "2026-11-25 07:39:56", 1), server.Event{}, `malformed token "07:39:56": want key=value`},
	{"bad time layout", strings.Replace(valid, "2026-11-25T07:39:56Z", "25/11/2026", 1), server.Event{}, `ts: not an RFC 3339 time: "25/11/2026"`},
	{"no such day", strings.Replace(valid, "2026-11-25", "2026-02-29", 1), server.Event{}, `ts: not an RFC 3339 time: "2026-02-29T07:39:56Z"`},
	{"hour 24", strings.Replace(valid, "T07", "T24", 1), server.Event{}, `ts: not an RFC 3339 time: "2026-11-25T24:39:56Z"`},
	{"lower-case z", strings.Replace(valid, "56Z", "56z", 1), server.Event{}, `ts: not an RFC 3339 time: "2026-11-25T07:39:56z"`},
	{"duplicate key", valid + " user=43", server.Event{}, "user: given twice"},
	{"unknown key", valid + " region=eu", server.Event{}, `unknown key "region": want ts, user, path, status, latency_ms, bytes`},
	{"trailing garbage", valid + " !", server.Event{}, `malformed token "!": want key=value`},
	{"empty value", strings.Replace(valid, "path=/cart", "path=", 1), server.Event{}, "path: empty value"},
	{"empty key", "=x " + valid, server.Event{}, `unknown key "": want ts, user, path, status, latency_ms, bytes`},
	{"relative path", strings.Replace(valid, "path=/cart", "path=cart", 1), server.Event{}, `path: must start with '/': "cart"`},
	{"invalid UTF-8 in path", strings.Replace(valid, "path=/cart", "path=/\xff", 1), server.Event{}, `path: must be valid UTF-8 without NUL bytes: "/\xff"`},
	{"NUL in path", strings.Replace(valid, "path=/cart", "path=/a\x00b", 1), server.Event{}, `path: must be valid UTF-8 without NUL bytes: "/a\x00b"`},
	{"carriage return", valid + "\r", server.Event{}, `malformed token "ts=2026-11-25T07:39:56Z user=42 path=/ca"...: want key=value`},
	{"no-break space", strings.Replace(valid, " user", "\u00a0user", 1), server.Event{}, `malformed token "ts=2026-11-25T07:39:56Z\u00a0user=42 path=/c"...: want key=value`},
	{"very long", valid + " " + strings.Repeat("x", 10000), server.Event{}, `malformed token "` + strings.Repeat("x", 40) + `"...: want key=value`},
}

func TestParse(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			for _, c := range cases {
				got, err := impl.Of.Parse([]byte(c.line))
				switch {
				case c.err == "" && err != nil:
					t.Errorf("%s: unexpected error %v", c.name, err)
				case c.err == "" && !reflect.DeepEqual(got, c.want):
					t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
				case c.err != "" && (err == nil || err.Error() != c.err):
					t.Errorf("%s: error %v, want %q", c.name, err, c.err)
				}
				if _, ok := err.(*server.ParseError); err != nil && !ok {
					t.Errorf("%s: error is a %T, want *server.ParseError", c.name, err)
				}
			}
		})
	}
}

// FuzzParse checks that every implementation agrees with the baseline on
// every input: the same event, or the same error. The seed corpus in
// testdata/fuzz/FuzzParse runs with every go test; make fuzz-6 explores.
func FuzzParse(f *testing.F) {
	for i := range 8 {
		for _, line := range strings.Split(string(load.Body(1, i, 4)), "\n") {
			f.Add([]byte(line))
		}
	}
	for _, c := range cases {
		f.Add([]byte(c.line))
	}
	f.Add([]byte("ts=2026-11-25T07:39:56.123456789-07:00 user=1 path=/ status=100 latency_ms=0 bytes=0"))
	impls := labtest.Under(f, all)
	f.Fuzz(func(t *testing.T, line []byte) {
		want, wantErr := reference.Parse(line)
		for _, impl := range impls {
			got, err := impl.Of.Parse(line)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("%s disagrees with the baseline on %q:\n got error %v\nwant error %v", impl.Name, line, err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s disagrees with the baseline on %q:\n got %+v\nwant %+v", impl.Name, line, got, want)
			}
		}
	})
}

// corpus is the lines the load generator sends: what the server parses.
func corpus() [][]byte {
	var lines [][]byte
	for i := range 20 {
		for _, l := range strings.Split(strings.TrimSuffix(string(load.Body(1, i, 50)), "\n"), "\n") {
			lines = append(lines, []byte(l))
		}
	}
	return lines
}

// The allocation budget: at most one allocation per parsed line (the Path
// string, which must outlive the request body).
const allocBudget = 1

func TestAllocsBudget(t *testing.T) {
	lines := corpus()
	for _, impl := range labtest.Budgeted(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			i := 0
			perLine := testing.AllocsPerRun(len(lines), func() {
				if _, err := impl.Of.Parse(lines[i%len(lines)]); err != nil {
					t.Fatal(err)
				}
				i++
			})
			t.Logf("%s: %.1f allocations per line (budget %d)", impl.Name, perLine, allocBudget)
			if impl.Name == labs.Baseline {
				// The budget must be able to fail: the baseline is over it.
				if perLine <= allocBudget {
					t.Errorf("the baseline makes %.1f allocations per line, within the budget of %d: the budget no longer tests anything", perLine, allocBudget)
				}
				return
			}
			if perLine > allocBudget {
				t.Errorf("%s makes %.1f allocations per line; the budget is %d.\n"+
					"Where do they come from? Run `make lab-6 IMPL=%s`, then `make flame-6 PROFILE=after-allocs`,\n"+
					"or `go test -run '^$' -bench 'Parse/impl=%s' -benchmem -memprofile mem.out ./labs/06-parsing/ && go tool pprof -http=127.0.0.1:8081 mem.out`.\n"+
					"labs/06-parsing/README.md, hint 1, says where to start.", impl.Name, perLine, allocBudget, impl.Name, impl.Name)
			}
		})
	}
}

// BenchmarkParse parses the load generator's lines, one sub-benchmark per
// implementation; make bench-6 runs it and compares them with benchstat:
//
//	go test -run '^$' -bench Parse -benchmem -count 10 ./labs/06-parsing/ > bench.txt
//	go run golang.org/x/perf/cmd/benchstat -col /impl bench.txt
func BenchmarkParse(b *testing.B) {
	lines := corpus()
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size / int64(len(lines)))
			i := 0
			for b.Loop() {
				if _, err := impl.Of.Parse(lines[i%len(lines)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// rest stands for the rest of the request path in the CPU budget test: a
// fixed amount of work per line that does not depend on the parser. It is
// what the server does next with an event: derive its route and build its
// audit record (with the baseline encoder, which never changes).
func rest(ev server.Event) int {
	ev.Route = server.Route(ev.Path)
	rec, _ := audit.AuditRecord("00000000-0000-0000-0000-000000000000", ev.Time, []server.Event{ev})
	return len(rec)
}

var audit = encoder.New()

// The CPU budget: over a fixed amount of work per line (parse it, then do
// what the server does next), the parser's cumulative share of a CPU profile must be
// at most half the baseline's. A share, not a time: it does not depend on
// how fast this machine is, only on where the work goes.
func TestCPUShareBudget(t *testing.T) {
	if labtest.RaceEnabled {
		t.Skip("CPU shares under the race detector measure the detector; make test runs this test in its race-free pass")
	}
	lines := corpus()
	// The same fixed work for every implementation, enough for some 100
	// CPU samples (pprof samples at 100 Hz) even with a fast parser.
	const n = 100_000
	base := cpuShare(t, labs.Baseline, reference, lines, n)
	budget := base / 2
	t.Logf("baseline: parser is %.0f%% of the CPU profile; budget for a fix: at most %.0f%%", 100*base, 100*budget)
	if base < 0.3 {
		t.Errorf("the baseline parser is only %.0f%% of the fixed work; the lesson's premise (the parser is the hot spot, 40%% in the article) no longer holds", 100*base)
	}
	for _, impl := range labtest.Budgeted(t, all) {
		if impl.Name == labs.Baseline {
			continue // the budget is half of its share: it fails by construction
		}
		share := cpuShare(t, impl.Name, impl.Of, lines, n)
		t.Logf("%s: parser is %.0f%% of the CPU profile", impl.Name, 100*share)
		if share > budget {
			t.Errorf("%s: the parser is still %.0f%% of the CPU profile; the budget is %.0f%% (half the baseline's %.0f%%).\n"+
				"Look at the CPU flame graph: `make lab-6 IMPL=%s`, then `make flame-6 PROFILE=after-cpu`, or\n"+
				"`go test -run '^$' -bench 'Parse/impl=%s' -cpuprofile cpu.out ./labs/06-parsing/ && go tool pprof -http=127.0.0.1:8081 cpu.out`.\n"+
				"Which frames under Parse are widest? labs/06-parsing/README.md, hint 2.", impl.Name, 100*share, 100*budget, 100*base, impl.Name, impl.Name)
		}
	}
}

// cpuShare profiles n lines of parse-then-encode and returns the share of
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
		sink += rest(ev)
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
	if samples := len(prof.Sample); samples < 20 || sink == 0 {
		t.Fatalf("%s: only %d distinct stacks sampled; too few to judge a share", name, samples)
	}
	return share.Cum
}
