// The correctness tests of lab 04-copies. They judge every implementation of
// the encoder (or those named by FLAMELAB_IMPL, as make check-4 does): the
// baseline's bytes, exactly, for audit records and both responses, on a table
// of awkward strings and under the fuzzer (arbitrary bytes in paths, routes
// and request ids). budget_test.go counts allocations; bench_test.go times
// them; alternatives_test.go holds the struct-tag version the lesson compares.
package copies_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/04-copies/baseline"
	"github.com/flamelab/flamelab/labs/04-copies/exercise"
	"github.com/flamelab/flamelab/labs/04-copies/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

var all = map[labs.Impl]server.Encoder{
	labs.Baseline: baseline.New(),
	labs.Exercise: exercise.New(),
	labs.Solution: solution.New(),
}

var reference server.Encoder = baseline.New()

const requestID = "7f9c2ba4-e88f-4a0c-9d3e-2b5a1c0e8f11"

var received = time.Date(2026, 11, 25, 7, 39, 56, 123456789, time.UTC)

// request returns request i's events, routed.
func request(i, n int) []server.Event {
	evs := load.Events(4, i, n)
	for j := range evs {
		evs[j].Route = server.Route(evs[j].Path)
	}
	return evs
}

func stored(evs []server.Event) []server.StoredEvent {
	out := make([]server.StoredEvent, len(evs))
	for i, e := range evs {
		out[i] = server.StoredEvent{ID: int64(1000 + i), RequestID: requestID, Line: i + 1, Event: e}
	}
	return out
}

// outputs is everything an encoder writes for one request's events.
func outputs(t testing.TB, enc server.Encoder, id string, evs []server.Event) [3]string {
	t.Helper()
	rec, err := enc.AuditRecord(id, received, evs)
	if err != nil {
		t.Fatal(err)
	}
	var acc, page bytes.Buffer
	if err := enc.WriteAccepted(&acc, id, len(evs)); err != nil {
		t.Fatal(err)
	}
	if err := enc.WriteEvents(&page, 42, stored(evs)); err != nil {
		t.Fatal(err)
	}
	return [3]string{string(rec), acc.String(), page.String()}
}

// awkward are strings encoding/json escapes: quotes, backslashes, control
// bytes, HTML characters, U+2028 and U+2029, invalid UTF-8, and plain
// multi-byte characters that it must not escape.
var awkward = []string{
	"/plain", "", "/q\"uote\\back", "/ctl\b\f\n\r\t\x00\x01\x1f\x7f", "/<script>&amp;",
	"/\u2028\u2029", "/bad\xff\xfe\xc3(", "/trunc\xe2\x82", "/é/日本/😀", "/\xed\xa0\x80surrogate", strings.Repeat("/long", 500),
}

var zones = []*time.Location{time.UTC, time.FixedZone("", -(23*3600 + 59*60)), time.FixedZone("", 5*3600+30*60)}

func TestSameBytes(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			check := func(name, id string, evs []server.Event) {
				t.Helper()
				want := outputs(t, reference, id, evs)
				got := outputs(t, impl.Of, id, evs)
				for k, what := range []string{"audit record", "POST /events answer", "GET /users/{id}/events answer"} {
					if got[k] != want[k] {
						t.Errorf("%s, %s: the bytes differ from the baseline's; %s\n"+
							"What it means: a client or the audit trail would read other bytes than the slow server writes (a key's order, an escape, a number's form). "+
							"Compare your encoder with the baseline's output at that offset; section 5 of labs/04-copies/README.md says what the bytes must keep.",
							name, what, labtest.FirstDiff(got[k], want[k]))
					}
				}
			}
			check("no events", requestID, nil)
			check("empty slice", requestID, []server.Event{})
			check("one request", requestID, request(1, 50))
			check("10,000 events", requestID, request(2, 10_000))
			for i, s := range awkward {
				evs := request(3, 3)
				evs[1].Path, evs[2].Route = s, s
				evs[0].Time = evs[0].Time.In(zones[i%len(zones)])
				check("awkward "+s, s, evs)
			}
		})
	}
}

// TestConcurrent: requests encode at the same time (-race); pooled buffers
// must not be shared.
func TestConcurrent(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			var wg sync.WaitGroup
			for c := range 8 {
				wg.Go(func() {
					for i := range 20 {
						evs := request(c*100+i, 20)
						if outputs(t, impl.Of, requestID, evs) != outputs(t, reference, requestID, evs) {
							t.Errorf("client %d request %d: output differs from the baseline's", c, i)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// FuzzEncode: arbitrary bytes in a path, a route and the request id give the
// baseline's bytes. The seed corpus runs with every go test; make fuzz-4
// explores.
func FuzzEncode(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s, requestID, int64(0))
	}
	f.Add("/a", "/b", "", int64(-1))
	impls := labtest.Under(f, all)
	f.Fuzz(func(t *testing.T, path, route, id string, n int64) {
		evs := request(5, 2)
		evs[0].Path, evs[1].Route, evs[0].Bytes, evs[1].UserID = path, route, n, n
		want := outputs(t, reference, id, evs)
		for _, impl := range impls {
			if got := outputs(t, impl.Of, id, evs); got != want {
				t.Fatalf("%s differs from the baseline for path %q, route %q, id %q: %s", impl.Name, path, route, id, labtest.FirstDiff(strings.Join(got[:], "\n---\n"), strings.Join(want[:], "\n---\n")))
			}
		}
	})
}
