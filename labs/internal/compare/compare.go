// Package compare turns alternating before/after measurements into the
// numbers a lab report shows: a median per side, the median of the pair
// ratios with its range, and a significance verdict from golang.org/x/perf's
// benchmath (the statistics behind benchstat), so a difference inside the
// noise is called noise.
package compare

import (
	"fmt"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Alpha is the significance level: a difference is called real only when the
// Mann-Whitney U-test's p-value is below it.
const Alpha = 0.05

// Result compares one metric between side A (before) and side B (after).
type Result struct {
	MedianA, MedianB float64
	Ratio            float64 // median over pairs of B[i]/A[i]
	RatioMin         float64
	RatioMax         float64
	P                float64 // Mann-Whitney U-test p-value, A vs B
	Significant      bool    // P < Alpha
	Warnings         []string
}

// Verdict says in words whether the difference is real.
func (r Result) Verdict() string {
	if r.Significant {
		return fmt.Sprintf("significant (p=%.3f)", r.P)
	}
	return fmt.Sprintf("noise (p=%.3f)", r.P)
}

// Pairs compares a and b, where a[i] and b[i] were measured back to back
// (A B A B ...). Ratios are taken per pair, so slow drift of the machine
// cancels out; the medians and the U-test use all values of each side.
func Pairs(a, b []float64) (Result, error) {
	if len(a) != len(b) || len(a) == 0 {
		return Result{}, fmt.Errorf("compare: want the same non-zero number of values per side, got %d and %d", len(a), len(b))
	}
	ratios := make([]float64, len(a))
	for i := range a {
		if a[i] == 0 {
			return Result{}, fmt.Errorf("compare: value %d of side A is 0; cannot take a ratio", i)
		}
		ratios[i] = b[i] / a[i]
	}
	// NewSample sorts in place; keep the callers' slices intact.
	sa := benchmath.NewSample(slices.Clone(a), &benchmath.DefaultThresholds)
	sb := benchmath.NewSample(slices.Clone(b), &benchmath.DefaultThresholds)
	sr := benchmath.NewSample(ratios, &benchmath.DefaultThresholds)

	cmp := benchmath.AssumeNothing.Compare(sa, sb)
	r := Result{
		MedianA:     benchmath.AssumeNothing.Summary(sa, 0.95).Center,
		MedianB:     benchmath.AssumeNothing.Summary(sb, 0.95).Center,
		Ratio:       benchmath.AssumeNothing.Summary(sr, 0.95).Center,
		RatioMin:    sr.Values[0],
		RatioMax:    sr.Values[len(sr.Values)-1],
		P:           cmp.P,
		Significant: cmp.P < Alpha,
	}
	for _, w := range cmp.Warnings {
		r.Warnings = append(r.Warnings, w.Error())
	}
	return r, nil
}
