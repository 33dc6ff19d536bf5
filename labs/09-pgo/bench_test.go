package pgo_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs"
	enrich "github.com/flamelab/flamelab/labs/01-goroutines/solution"
	encode "github.com/flamelab/flamelab/labs/04-copies/solution"
	parse "github.com/flamelab/flamelab/labs/06-parsing/solution"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server"
)

// BenchmarkMerge is what building the profile costs: each
// implementation's Merge of testdata's two captures. It is not the lesson's
// speed-up (that is the server's, make lab-9): it says the step is cheap
// enough to run on every release build.
func BenchmarkMerge(b *testing.B) {
	for _, impl := range []labs.Impl{labs.Baseline, labs.Exercise, labs.Solution} {
		b.Run("impl="+string(impl), func(b *testing.B) {
			caps := captures(b)
			for b.Loop() {
				if _, err := impls[impl](caps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequestCPU is the fixed server's CPU work for one request
// without the network and the database: parse 50 lines, enrich them, encode
// the audit record. PGO changes code, not this benchmark, so run it twice
// with go test's own -pgo flag and compare (section 6 of the README):
//
//	go test -pgo=off -bench RequestCPU ./labs/09-pgo/
//	go test -pgo=labs/09-pgo/testdata/default.pgo -bench RequestCPU ./labs/09-pgo/
func BenchmarkRequestCPU(b *testing.B) {
	bodies := make([][][]byte, 64)
	for i := range bodies {
		bodies[i] = bytes.Split(bytes.TrimSuffix(load.Body(1, i, 50), []byte("\n")), []byte("\n"))
	}
	p, e, enc := parse.New(), enrich.New(), encode.New()
	received := time.Unix(1_700_000_000, 0)
	events := make([]server.Event, 0, 50)
	i := 0
	for b.Loop() {
		events = events[:0]
		for _, line := range bodies[i%len(bodies)] {
			ev, err := p.Parse(line)
			if err != nil {
				b.Fatal(err)
			}
			events = append(events, ev)
		}
		e.Enrich(events)
		if _, err := enc.AuditRecord("00000000-0000-0000-0000-000000000001", received, events); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(len(events)), "events/op")
}
