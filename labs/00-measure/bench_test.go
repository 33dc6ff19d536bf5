package measure_test

import (
	"math/bits"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/00-measure/baseline"
	"github.com/flamelab/flamelab/labs/00-measure/exercise"
	"github.com/flamelab/flamelab/labs/00-measure/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// impls are lab 00's three benchmarks of the same parse.
var impls = map[labs.Impl]func(*testing.B){
	labs.Baseline: baseline.Benchmark,
	labs.Exercise: exercise.Benchmark,
	labs.Solution: solution.Benchmark,
}

// BenchmarkParse runs each implementation's benchmark of the same parse:
// make bench-0 shows what each one claims a parse costs.
func BenchmarkParse(b *testing.B) {
	for _, impl := range labtest.Under(b, impls) {
		b.Run("impl="+string(impl.Name), impl.Of)
	}
}

// checksum is small, pure and inlinable: a compiler may drop a call to it
// whose result nobody uses.
func checksum(x uint64) int { return bits.OnesCount64(x*0x9e3779b97f4a7c15) + int(x>>61) }

// sink keeps a result alive the old way.
var sink int

// BenchmarkChecksum is the lesson's eliminated work: the same checksum
// timed three ways. In a classic b.N loop whose result is unused the
// compiler may remove the call (and the benchmark times an empty loop);
// storing into a package variable keeps it; b.Loop keeps it by itself.
func BenchmarkChecksum(b *testing.B) {
	b.Run("method=bN-discarded", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			checksum(uint64(i))
		}
	})
	b.Run("method=bN-sink", func(b *testing.B) {
		s := 0
		for i := 0; i < b.N; i++ {
			s += checksum(uint64(i))
		}
		sink = s
	})
	b.Run("method=b.Loop", func(b *testing.B) {
		i := uint64(0)
		for b.Loop() {
			checksum(i)
			i++
		}
	})
}
