package runner

import (
	"testing"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
)

// fakeProfile is a wall-clock profile whose samples sit in the handler and,
// below it, in the named functions, with the given counts; plus idle
// goroutines outside the handler.
func fakeProfile(counts map[string]int64) *profile.Profile {
	p := &profile.Profile{SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}}}
	var id uint64
	fn := func(name string) *profile.Location {
		id++
		f := &profile.Function{ID: id, Name: name}
		p.Function = append(p.Function, f)
		l := &profile.Location{ID: id, Line: []profile.Line{{Function: f}}}
		p.Location = append(p.Location, l)
		return l
	}
	h := fn("github.com/flamelab/flamelab/server.(*Server).ServeHTTP")
	idle := fn("runtime.gopark")
	p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{idle}, Value: []int64{1000}})
	for name, n := range counts {
		p.Sample = append(p.Sample, &profile.Sample{Location: []*profile.Location{fn(name), h}, Value: []int64{n}})
	}
	return p
}

// TestProfileOrderPicksTheWidest: given a recorded profile, the capstone
// fixes the stage with the largest share of the handler's time, whatever
// the article's order, and ignores idle goroutines.
func TestProfileOrderPicksTheWidest(t *testing.T) {
	l := func(n int) *labs.Lab { lab, _ := labs.ByNumber(n); return lab }
	p := fakeProfile(map[string]int64{
		l(7).Package(labs.Baseline) + ".(*Store).Insert":   60,
		l(5).Package(labs.Baseline) + ".(*Auditor).Append": 30,
		l(1).Package(labs.Baseline) + ".Enricher.Enrich":   5,
		"github.com/flamelab/flamelab/server.(*Server).x":  5,
	})
	shares, err := StageShares(p, []*labs.Lab{l(1), l(5), l(7)})
	if err != nil {
		t.Fatal(err)
	}
	if got := Widest(shares); got != 7 {
		t.Errorf("picked lab %d from %v, want 7", got, shares)
	}
	if s := shares[7]; s < 0.59 || s > 0.61 {
		t.Errorf("lab 7's share %.2f, want 0.60 of the handler (idle goroutines excluded)", s)
	}
	if Widest(map[int]float64{3: 0.2, 2: 0.2}) != 2 {
		t.Error("a tie must go to the lower lab number, so the order is reproducible")
	}
}

func TestStagesOfAndHalf(t *testing.T) {
	if got := stagesOf([]int{7, 1}); got != "all=baseline,1=solution,7=solution" {
		t.Errorf("stagesOf = %q", got)
	}
	if _, err := labs.ParseChoice(stagesOf(allLabs())); err != nil {
		t.Errorf("the all-solution stages do not parse: %v", err)
	}
	steps := []Step{{Median: 100}, {Median: 300}, {Median: 600}, {Median: 900}}
	if got := passesHalf(steps, 900); got != 2 {
		t.Errorf("passesHalf = %d, want 2", got)
	}
}
