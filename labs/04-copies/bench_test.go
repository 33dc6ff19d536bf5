package copies_test

import (
	"testing"

	"github.com/flamelab/flamelab/labs/internal/labtest"
	"github.com/flamelab/flamelab/server"
)

func benchEncode(b *testing.B, enc server.Encoder) {
	evs := request(1, 50)
	page := stored(evs)
	b.ReportAllocs()
	b.SetBytes(int64(encodeRequest(enc, evs, page)))
	for b.Loop() {
		encodeRequest(enc, evs, page)
	}
}

// BenchmarkEncode: one request of 50 events (record, answer, page); bytes
// per op are the record's.
func BenchmarkEncode(b *testing.B) {
	for _, impl := range labtest.Under(b, all) {
		b.Run("impl="+string(impl.Name), func(b *testing.B) { benchEncode(b, impl.Of) })
	}
}

// BenchmarkMethods: the lesson's comparison.
func BenchmarkMethods(b *testing.B) {
	for _, m := range methods {
		b.Run("method="+m.name, func(b *testing.B) { benchEncode(b, m.enc) })
	}
}
