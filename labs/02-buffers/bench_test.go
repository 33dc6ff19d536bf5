package buffers_test

import (
	"bytes"
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

// benchRead reads the budget's bodies, one request per op, one goroutine or
// GOMAXPROCS at once; bytes per op are the body's.
func benchRead(b *testing.B, r server.BodyReader, parallel bool) {
	bs := bodies()
	b.ReportAllocs()
	b.SetBytes(int64(len(bs[0])))
	one := func(i int) {
		lines, release, err := r.ReadLines(bytes.NewReader(bs[i%len(bs)]))
		if err != nil || len(lines) != 50 {
			b.Fatal(len(lines), err)
		}
		release()
	}
	if !parallel {
		i := 0
		for b.Loop() {
			one(i)
			i++
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			one(i)
			i++
		}
	})
}

func BenchmarkReadLines(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) { benchRead(b, impl.Of, false) })
	}
}

func BenchmarkReadLinesParallel(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) { benchRead(b, impl.Of, true) })
	}
}

// BenchmarkMethods: the lesson's comparison, serial and parallel.
func BenchmarkMethods(b *testing.B) {
	for _, m := range methods {
		b.Run("mode=serial/method="+m.name, func(b *testing.B) { benchRead(b, m.r, false) })
	}
	for _, m := range methods {
		b.Run("mode=parallel/method="+m.name, func(b *testing.B) { benchRead(b, m.r, true) })
	}
}
