package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/compare"
	"github.com/flamelab/flamelab/labs/internal/flame"
)

func TestSizeWork(t *testing.T) {
	for _, c := range []struct {
		perSec, secs float64
		want         int
	}{
		{2000, 3, 7500}, // 6,000 and a quarter to spare
		{1699, 3, 6400}, // rounded up to a hundred
		{50, 3, 600},    // never under the old fixed work
	} {
		if got := SizeWork(c.perSec, c.secs); got != c.want {
			t.Errorf("SizeWork(%v, %v) = %d, want %d", c.perSec, c.secs, got, c.want)
		}
	}
}

func TestStatCPU(t *testing.T) {
	line := "4242 (post gres) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 1 0 100 0 0"
	if got := statCPU(line); got != 3250*time.Millisecond {
		t.Errorf("statCPU = %v, want 3.25s (250 + 75 ticks of 10 ms)", got)
	}
	if statCPU("garbage") != 0 {
		t.Error("a line without fields must count 0")
	}
}

func TestJudge(t *testing.T) {
	rep := func(name string, a, b, ratio float64, sig bool) *Report {
		return &Report{A: &Side{}, B: &Side{}, Metrics: []Metric{{Name: name, Result: compare.Result{MedianA: a, MedianB: b, Ratio: ratio, Significant: sig}}}}
	}
	for _, c := range []struct {
		name  string
		check labs.Check
		rep   *Report
		want  string
	}{
		{"30x claimed, 9.9x measured", labs.Check{Metric: "throughput", Ratio: 30}, rep("throughput", 241, 2312, 9.92, true), Smaller},
		{"2x claimed, 2.1x measured", labs.Check{Metric: "throughput", Ratio: 2}, rep("throughput", 100, 210, 2.1, true), Confirmed},
		{"within 10% of the claim", labs.Check{Metric: "throughput", Ratio: 2}, rep("throughput", 100, 185, 1.85, true), Confirmed},
		{"noise", labs.Check{Metric: "throughput", Ratio: 2}, rep("throughput", 100, 103, 1.03, false), NotSeen},
		{"-70% claimed, -75% measured", labs.Check{Metric: "mutex wait", Ratio: 0.3}, rep("mutex wait", 100, 25, 0.25, true), Confirmed},
		{"wrong direction", labs.Check{Metric: "throughput", Ratio: 2}, rep("throughput", 100, 80, 0.8, true), NotSeen},
		{"10 ms claimed, 12 ms measured", labs.Check{Metric: "latency p50", LessMS: 10}, rep("latency p50", 20, 8, 0.4, true), Confirmed},
		{"10 ms claimed, 3 ms measured", labs.Check{Metric: "latency p50", LessMS: 10}, rep("latency p50", 20, 17, 0.85, true), Smaller},
		{"no such row", labs.Check{Metric: "nope", Ratio: 2}, rep("throughput", 1, 2, 2, true), NoRun},
	} {
		if got, _ := Judge(c.check, c.rep); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPageBannerIsItsOwn: a page's banner quotes its own profile's totals,
// never an example's.
func TestPageBannerIsItsOwn(t *testing.T) {
	got := about(view{"cpu", "cpu", ""}, flame.Summary{Type: "cpu", Total: int64(3 * time.Second), Duration: 2 * time.Second})
	if !strings.Contains(got, "3s of CPU samples") || !strings.Contains(got, "1.50 cores") || strings.Contains(got, "1.79s") {
		t.Errorf("cpu banner: %s", got)
	}
	got = about(view{"allocs", "alloc_objects", "-objects"}, flame.Summary{Total: 1234})
	if !strings.Contains(got, "1234") {
		t.Errorf("alloc_objects banner: %s", got)
	}
}

// TestSizePair: sides within a few times of each other get the faster
// side's three seconds; sides tenfold apart are cut to the slower side's
// dozen seconds, never below a second of the faster side's.
func TestSizePair(t *testing.T) {
	for _, c := range []struct {
		a, b    float64
		want    int
		trimmed bool
	}{
		{1600, 1800, SizeWork(1800, 3), false}, // lab 6: 6,800
		{250, 2000, SizeWork(250, 12), true},   // lab 7: 3,800, not 7,500
		{20, 2000, SizeWork(2000, 1), true},    // never under a second of the faster
		{0, 2000, SizeWork(2000, 3), false},    // no rate for the slow side: no cut
	} {
		got, trimmed := SizePair(c.a, c.b, 3, 12)
		if got != c.want || trimmed != c.trimmed {
			t.Errorf("SizePair(%v, %v) = %d, %v; want %d, %v", c.a, c.b, got, trimmed, c.want, c.trimmed)
		}
	}
}
