package solution

import (
	"testing"

	"github.com/flamelab/flamelab/labs/00-measure/subject"
)

// Benchmark times one subject.Parse of one request's body per operation.
func Benchmark(b *testing.B) {
	bodies := subject.Bodies(64) // before b.Loop: neither timed nor counted
	events := 0
	for i := 0; b.Loop(); i++ {
		evs, err := subject.Parse(bodies[i%len(bodies)])
		if err != nil {
			b.Fatal(err)
		}
		events += len(evs)
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
