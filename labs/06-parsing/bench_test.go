package parsing_test

import (
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
)

// BenchmarkParse parses the load generator's lines, one sub-benchmark per
// implementation; make bench-6 runs it and compares them with benchstat:
//
//	go test -run '^$' -bench Parse -benchmem -count 10 ./labs/06-parsing/ > bench.txt
//	go tool benchstat -col /impl bench.txt
func BenchmarkParse(b *testing.B) {
	lines := corpus()
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	perLine := size / int64(len(lines)) // b.SetBytes wants bytes per iteration: one line
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(perLine)
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
