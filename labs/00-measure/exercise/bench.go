package exercise

import (
	"testing"

	"github.com/flamelab/flamelab/labs/00-measure/subject"
)

// Benchmark times subject.Parse, the way many first benchmarks are written.
func Benchmark(b *testing.B) {
	for i := 0; i < b.N; i++ {
		bodies := subject.Bodies(64)
		for _, body := range bodies {
			subject.Parse(body)
		}
	}
}
