package labs

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Choice picks an implementation per lab number; a lab not in the map runs
// its baseline.
type Choice map[int]Impl

// ParseChoice parses a spec such as "all=baseline,6=solution": comma-separated
// LAB=IMPL pairs, applied left to right, where LAB is a number or "all".
// "all=solution" picks the solution of every lab that has one and leaves the
// others at baseline; a single lab must have the implementation asked for.
func ParseChoice(spec string) (Choice, error) {
	c := Choice{}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lab, impl, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("stage choice %q: want LAB=IMPL, e.g. 6=solution or all=baseline", part)
		}
		im := Impl(impl)
		if im != Baseline && im != Exercise && im != Solution {
			return nil, fmt.Errorf("stage choice %q: implementation must be baseline, exercise or solution", part)
		}
		if lab == "all" {
			for _, l := range Staged() {
				if l.Has(im) {
					c[l.Number] = im
				} else {
					c[l.Number] = Baseline
				}
			}
			continue
		}
		n, err := strconv.Atoi(lab)
		if err != nil {
			return nil, fmt.Errorf("stage choice %q: lab must be a number (%s), or all", part, Range())
		}
		l, err := ByNumber(n)
		if err != nil {
			return nil, err
		}
		if l.Stage == "" {
			return nil, fmt.Errorf("stage choice %q: lab %d (%s) is about the instrument and has no stage of the server", part, n, l.Slug)
		}
		if !l.Has(im) {
			return nil, fmt.Errorf("lab %d (%s) has no %s yet; it has: %v", n, l.Slug, im, l.Impls())
		}
		c[n] = im
	}
	return c, nil
}

// Get returns the implementation c picks for lab n.
func (c Choice) Get(n int) Impl {
	if impl, ok := c[n]; ok {
		return impl
	}
	return Baseline
}

// String lists the choice for every lab, e.g. "1=baseline 2=baseline ... 7=solution".
func (c Choice) String() string {
	parts := make([]string, 0, len(All))
	for _, l := range Staged() {
		parts = append(parts, fmt.Sprintf("%d=%s", l.Number, c.Get(l.Number)))
	}
	return strings.Join(parts, " ")
}

// Tags returns the build tags a server binary needs to run c: one per
// exercise it picks, comma-separated as go build -tags takes them.
func (c Choice) Tags() string {
	var tags []string
	for _, l := range Staged() {
		if c.Get(l.Number) == Exercise {
			tags = append(tags, l.ExerciseTag())
		}
	}
	return strings.Join(tags, ",")
}

// Fix returns the choice with the labs numbered in fixed at their solution
// and every other lab at its baseline.
func Fix(fixed ...int) Choice {
	c := Choice{}
	for _, n := range fixed {
		c[n] = Solution
	}
	return c
}

// Flag returns c as the server's -stages flag takes it: "all=baseline",
// then every lab c names, in lab order, e.g. "all=baseline,3=solution,6=exercise".
// ParseChoice(c.Flag()) picks what c picks.
func (c Choice) Flag() string {
	parts := []string{"all=baseline"}
	for _, n := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%d=%s", n, c[n]))
	}
	return strings.Join(parts, ",")
}

// Staged returns the labs that own a stage of the server, in order: every
// lab but those about the instrument (lab 00).
func Staged() []*Lab {
	var out []*Lab
	for _, l := range All {
		if l.Stage != "" {
			out = append(out, l)
		}
	}
	return out
}

// StagedNumbers returns the numbers of Staged.
func StagedNumbers() []int {
	var out []int
	for _, l := range Staged() {
		out = append(out, l.Number)
	}
	return out
}

// Numbers returns every lab's number, in order.
func Numbers() []int {
	out := make([]int, 0, len(All))
	for _, l := range All {
		out = append(out, l.Number)
	}
	return out
}
