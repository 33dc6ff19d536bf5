package compare

import (
	"math"
	"strings"
	"testing"
)

func TestClearDifference(t *testing.T) {
	a := []float64{100, 104, 98, 101, 99}
	b := []float64{200, 212, 190, 205, 201}
	r, err := Pairs(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if r.MedianA != 100 || r.MedianB != 201 {
		t.Errorf("medians %v, %v; want 100, 201", r.MedianA, r.MedianB)
	}
	// Pair ratios: 2.00, 2.038..., 1.938..., 2.0297..., 2.0303...
	if math.Abs(r.Ratio-2.0297) > 0.001 || math.Abs(r.RatioMin-1.9388) > 0.001 || math.Abs(r.RatioMax-2.0385) > 0.001 {
		t.Errorf("ratio %.4f [%.4f, %.4f]; want 2.0297 [1.9388, 2.0385]", r.Ratio, r.RatioMin, r.RatioMax)
	}
	// Five values per side, fully separated: the U-test's smallest p, 0.0079.
	if !r.Significant || math.Abs(r.P-0.0079) > 0.0001 || !strings.HasPrefix(r.Verdict(), "significant") {
		t.Errorf("verdict %s (p=%v); want significant at p=0.0079", r.Verdict(), r.P)
	}
}

func TestNoiseIsNoise(t *testing.T) {
	// Two runs of the same server: interleaved values.
	r, err := Pairs([]float64{100, 97, 103, 99, 101}, []float64{98, 102, 100, 96, 104})
	if err != nil {
		t.Fatal(err)
	}
	if r.Significant || !strings.HasPrefix(r.Verdict(), "noise") {
		t.Errorf("A/A comparison called %s", r.Verdict())
	}
}

func TestTooFewPairsCannotBeSignificant(t *testing.T) {
	// Three pairs, even completely separated, cannot reach p < 0.05 with a
	// U-test (its smallest p is 0.1); benchmath says so, and so must we.
	r, err := Pairs([]float64{1, 1.1, 1.2}, []float64{10, 11, 12})
	if err != nil {
		t.Fatal(err)
	}
	if r.Significant || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "need >= 4 samples") {
		t.Errorf("3 pairs: significant=%v warnings=%v; want not significant, with benchmath's warning", r.Significant, r.Warnings)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := Pairs([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("uneven sides accepted")
	}
	if _, err := Pairs([]float64{0}, []float64{1}); err == nil {
		t.Error("a zero in side A accepted")
	}
}
