// The correctness tests of lab 02-buffers. They judge every implementation of
// the body reader (or those named by FLAMELAB_IMPL, as make check-2 does): the
// baseline's lines for every body (a table and a fuzz test), errors passed
// through, and release discipline: memory given back is never still in use.
// budget_test.go counts allocations; bench_test.go times them.
package buffers_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/02-buffers/baseline"
	"github.com/flamelab/flamelab/labs/02-buffers/exercise"
	"github.com/flamelab/flamelab/labs/02-buffers/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

var all = map[labs.Impl]server.BodyReader{
	labs.Baseline: baseline.New(),
	labs.Exercise: exercise.New(),
	labs.Solution: solution.New(),
}

var reference server.BodyReader = baseline.New()

// limit is the server's body limit; the tests read through the same
// http.MaxBytesReader the server uses.
const limit = server.DefaultMaxBodyBytes

// read runs r over body and returns copies of its lines (so release can
// run at once) and its error.
func read(r server.BodyReader, body []byte) ([]string, error) {
	lines, release, err := r.ReadLines(http.MaxBytesReader(nil, io.NopCloser(bytes.NewReader(body)), limit))
	defer release()
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return out, err
}

var cases = map[string]string{
	"empty":                "",
	"one line, no newline": "a",
	"one line":             "a\n",
	"only a newline":       "\n",
	"CRLF":                 "a\r\nb\r\n",
	"CRLF, no final":       "a\r\nb",
	"lone CR at the end":   "a\nb\r",
	"lone CR, one line":    "a\r",
	"CR inside a line":     "a\rb\nc",
	"CR then CRLF":         "a\r\r\n",
	"empty lines":          "a\n\n\nb\n",
	"two final newlines":   "a\n\n",
	"only CRLF":            "\r\n",
	"mixed":                "a\nb\r\nc\rd\r\n\r\ne",
	"binary":               "\x00\xff\n\xfe\r\n",
	"the load generator's": string(load.Body(2, 0, 50)),
	"at the limit":         strings.Repeat("x", limit-1) + "\n",
	"a long line":          strings.Repeat("y", 100_000),
	"many short lines":     strings.Repeat("z\n", 20_000),
}

func TestSameLines(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			for name, body := range cases {
				want, wantErr := read(reference, []byte(body))
				got, err := read(impl.Of, []byte(body))
				if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
					t.Errorf("%s: %q, %v; the baseline's: %q, %v", name, trim(got), err, trim(want), wantErr)
				}
			}
		})
	}
}

// TestLoneCR: a "\r" not followed by "\n" is not a line ending, so it stays
// in the line, and the parser refuses that line, as server/stages.go says.
func TestLoneCR(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		got, _ := read(impl.Of, []byte("a\nb\r"))
		if len(got) != 2 || got[1] != "b\r" {
			t.Errorf("%s: %q, want [\"a\" \"b\\r\"]", impl.Name, got)
		}
	}
}

func trim(lines []string) []string {
	if len(lines) > 6 {
		return append(lines[:6:6], fmt.Sprintf("... %d lines", len(lines)))
	}
	for i, l := range lines {
		if len(l) > 40 {
			lines[i] = l[:40] + "..."
		}
	}
	return lines
}

// TestOverTheLimit: *http.MaxBytesError reaches the server, which answers
// 413, and release still works.
func TestOverTheLimit(t *testing.T) {
	body := []byte(strings.Repeat("x", limit) + "\n")
	for _, impl := range labtest.Under(t, all) {
		_, err := read(impl.Of, body)
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			t.Errorf("%s: a body over the limit gave %v, want an *http.MaxBytesError", impl.Name, err)
		}
	}
}

// TestOtherErrors: an error of the body itself is passed on.
func TestOtherErrors(t *testing.T) {
	boom := errors.New("connection reset")
	for _, impl := range labtest.Under(t, all) {
		_, release, err := impl.Of.ReadLines(io.MultiReader(strings.NewReader("a\nb"), errReader{boom}))
		release()
		if !errors.Is(err, boom) {
			t.Errorf("%s: %v, want the body's error", impl.Name, err)
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestReleaseDiscipline: two requests in flight never share memory, and
// memory given back and reused by a third request leaves the lines of one
// still in flight untouched.
func TestReleaseDiscipline(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			bodyA, bodyB := load.Body(2, 1, 50), load.Body(2, 2, 50)
			a, releaseA, _ := impl.Of.ReadLines(bytes.NewReader(bodyA))
			defer releaseA()
			want, _ := read(reference, bodyA)
			for range 20 { // give memory back and take it again, many times
				b, releaseB, _ := impl.Of.ReadLines(bytes.NewReader(bodyB))
				for _, l := range b {
					for i := range l {
						l[i] = 'X' // a request scribbling over its own lines
					}
				}
				releaseB()
				c, releaseC, _ := impl.Of.ReadLines(bytes.NewReader(bodyB))
				for _, l := range c {
					for i := range l {
						l[i] = 'Y'
					}
				}
				releaseC()
			}
			for i, l := range a {
				if string(l) != want[i] {
					t.Fatalf("line %d of a request still in flight changed to %.40q: memory was handed out while in use", i+1, l)
				}
			}
		})
	}
}

// TestConcurrent: requests read their bodies at the same time (-race).
func TestConcurrent(t *testing.T) {
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			var wg sync.WaitGroup
			for c := range 8 {
				wg.Go(func() {
					for i := range 50 {
						body := load.Body(uint64(c), i, 20)
						want, _ := read(reference, body)
						got, err := read(impl.Of, body)
						if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
							t.Errorf("client %d request %d: lines differ from the baseline's", c, i)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestPoolDoesNotPin: after one 1 MiB body and its release, the heap after a
// GC holds no megabyte: a reader may pool buffers, but not big ones.
func TestPoolDoesNotPin(t *testing.T) {
	big := []byte(strings.Repeat("w", limit-1))
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			heap := func() uint64 {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				return m.HeapAlloc
			}
			before := heap()
			_, release, err := impl.Of.ReadLines(bytes.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			release()
			after := heap()
			grown := int64(after) - int64(before)
			t.Logf("%s: heap after GC grew %d KB after one 1 MiB body was released", impl.Name, grown>>10)
			if grown > 256<<10 {
				t.Errorf("%s: the heap after GC kept %d KB after a 1 MiB body was released: the pool pins big buffers", impl.Name, grown>>10)
			}
		})
	}
	runtime.KeepAlive(big)
}

// FuzzReadLines: every implementation agrees with the baseline on every
// body. The seed corpus runs with every go test; make fuzz-2 explores.
func FuzzReadLines(f *testing.F) {
	for _, body := range cases {
		if len(body) < 4096 {
			f.Add([]byte(body))
		}
	}
	impls := labtest.Under(f, all)
	f.Fuzz(func(t *testing.T, body []byte) {
		want, wantErr := read(reference, body)
		for _, impl := range impls {
			got, err := read(impl.Of, body)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Fatalf("%s disagrees with the baseline on %q:\n got %q, %v\nwant %q, %v", impl.Name, body, got, err, want, wantErr)
			}
		}
	})
}

// TestLinesDoNotOverlap: appending to a line changes no other line, for
// every line of a body and every implementation. A solution that returns
// sub-slices of one buffer without capping their capacity fails it:
// append(lines[0], "XYZ"...) wrote over line 2.
func TestLinesDoNotOverlap(t *testing.T) {
	for name, body := range map[string]string{"LF": "aa\nbb\ncc\n", "CRLF": "aa\r\nbb\r\ncc", "the load generator's": string(load.Body(2, 0, 20))} {
		for _, impl := range labtest.Under(t, all) {
			t.Run(name+"/"+string(impl.Name), func(t *testing.T) {
				want, _ := read(reference, []byte(body))
				for i := range want {
					lines, release, err := impl.Of.ReadLines(bytes.NewReader([]byte(body)))
					if err != nil {
						t.Fatal(err)
					}
					_ = append(lines[i], "XYZ"...)
					for j, l := range lines {
						if j != i && string(l) != want[j] {
							t.Errorf("after append(lines[%d], \"XYZ\"...), line %d reads %q, want %q: lines share capacity; cut each line's capacity to its length (a full slice expression, s[lo:hi:hi])", i, j+1, l, want[j])
						}
					}
					release()
				}
			})
		}
	}
}

// TestDoubleReleaseIsHarmless: calling a release twice must not hand one
// buffer to two requests. The second call comes after the buffer went back
// to the pool, then two readers take buffers at once: if the double release
// pooled the same buffer twice, they share it and the second body
// overwrites the first.
//
// It runs under -race too (make test's only pass for it): there sync.Pool
// drops some of what it is given, which can hide a shared buffer in a round
// but never makes a correct reader fail, and a hundred rounds still catch
// a double release.
func TestDoubleReleaseIsHarmless(t *testing.T) {
	bodyA, bodyB := load.Body(3, 1, 50), load.Body(3, 2, 50)
	for _, impl := range labtest.Under(t, all) {
		t.Run(string(impl.Name), func(t *testing.T) {
			want, _ := read(reference, bodyA)
			for round := range 100 {
				_, release, err := impl.Of.ReadLines(bytes.NewReader(bodyB))
				if err != nil {
					t.Fatal(err)
				}
				release()
				release() // the mistake: a deferred release and an explicit one
				a, releaseA, _ := impl.Of.ReadLines(bytes.NewReader(bodyA))
				b, releaseB, _ := impl.Of.ReadLines(bytes.NewReader(bodyB))
				for i := range a {
					if string(a[i]) != want[i] {
						t.Fatalf("round %d: after a double release, a request's line %d reads %q, want %q: another request's body overwrote it. "+
							"A second release must do nothing: remember which hand-out it releases", round, i+1, a[i], want[i])
					}
				}
				_ = b
				releaseA()
				releaseB()
			}
		})
	}
}
