package load

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fmtBody is how Body was written before it was made cheap (fmt and
// time.Format per line): the bodies every reference run measured. Body must
// keep writing exactly these bytes, or the runs before and after a change
// of the load generator would not have done the same work.
func fmtBody(seed uint64, i, lines int) []byte {
	var b strings.Builder
	for _, ev := range Events(seed, i, lines) {
		fmt.Fprintf(&b, "ts=%s user=%d path=%s status=%d latency_ms=%d bytes=%d\n",
			ev.Time.Format(time.RFC3339Nano), ev.UserID, ev.Path, ev.Status, ev.LatencyMS, ev.Bytes)
	}
	return []byte(b.String())
}

// bodiesSHA256 is the SHA-256 of the bodies TestBodyUnchanged walks, as the
// fmt-based generator wrote them (commit 633ba21): it pins the random draws
// themselves, which fmtBody, built on today's Events, cannot.
const bodiesSHA256 = "380190f4466c2bf7785736883f8ef83032373873b43b80068ae00126c19f5435"

func TestBodyUnchanged(t *testing.T) {
	h := sha256.New()
	for _, seed := range []uint64{0, 1, 2, 7, 70, 1 ^ 0x5eed} {
		for _, lines := range []int{1, 4, 10, 50} {
			for i := range 300 {
				got, want := Body(seed, i, lines), fmtBody(seed, i, lines)
				if !bytes.Equal(got, want) {
					t.Fatalf("Body(%d, %d, %d) differs from the fmt version:\n got %q\nwant %q", seed, i, lines, got, want)
				}
				h.Write(got)
			}
		}
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != bodiesSHA256 {
		t.Errorf("the bodies' SHA-256 is %s, want %s: the random draws changed, so today's runs do other work than the reference runs", sum, bodiesSHA256)
	}
	if cap(Body(1, 0, 50)) > 50*bytesPerLine {
		t.Errorf("Body grew its buffer past %d bytes: bytesPerLine is too small", 50*bytesPerLine)
	}
}

// TestBodyAllocs is the load generator's own budget, a count: a few
// allocations per body (its buffer and its random source), whatever its
// length. The fmt version made 359 for 50 lines.
func TestBodyAllocs(t *testing.T) {
	i := 0
	n := testing.AllocsPerRun(200, func() { Body(1, i, 50); i++ })
	if n > 4 {
		t.Errorf("Body made %.0f allocations per 50-line body, want at most 4 (its buffer, its random source); fmtBody makes %.0f",
			n, testing.AllocsPerRun(50, func() { fmtBody(1, 0, 50) }))
	}
}

// BenchmarkBody is the load generator's CPU per POST body. Compare with
// the fmt version: go test -bench Body -count 10 ./labs/internal/load |
// go tool benchstat -col /impl -
func BenchmarkBody(b *testing.B) {
	for _, impl := range []struct {
		name string
		f    func(uint64, int, int) []byte
	}{{"append", Body}, {"fmt", fmtBody}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				impl.f(1, i, 50)
			}
		})
	}
}
