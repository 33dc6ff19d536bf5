// The correctness tests of lab 06-parsing. They judge every implementation of
// the parser (or those named by FLAMELAB_IMPL, as make check-6 does): the same
// events and the same errors as the baseline, on a table of cases and under
// the fuzzer. budget_test.go holds the budgets; bench_test.go the benchmarks.
package parsing_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/06-parsing/baseline"
	"github.com/flamelab/flamelab/labs/06-parsing/exercise"
	"github.com/flamelab/flamelab/labs/06-parsing/solution"
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
