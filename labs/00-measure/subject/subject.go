// Package subject is what lab 00's benchmarks measure: the server's parse of
// a POST /events body, line by line with lab 06's fixed parser, exactly as
// the server does it. It counts its own calls, so a test can tell how many
// times a benchmark really ran it.
package subject

import (
	"bytes"
	"sync/atomic"

	"github.com/flamelab/flamelab/labs/06-parsing/solution"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

// Lines is the access-log lines of every body Bodies makes: the labs' load
// sends 50 a request.
const Lines = 50

var (
	parser = solution.New()
	calls  atomic.Int64
)

// Parse parses body, one access-log line per line, into events. Every
// call is counted (Calls).
func Parse(body []byte) ([]server.Event, error) {
	calls.Add(1)
	events := make([]server.Event, 0, bytes.Count(body, []byte{'\n'})+1)
	for line := range bytes.Lines(body) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		e, err := parser.Parse(line)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// Bodies returns n request bodies of Lines lines each, the load generator's
// own (seed 1): the setup every benchmark of Parse needs.
func Bodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = load.Body(1, i, Lines)
	}
	return out
}

// Calls returns how many times Parse ran since the last Reset.
func Calls() int64 { return calls.Load() }

// Reset sets Calls to zero.
func Reset() { calls.Store(0) }
