package capstone

import (
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/compare"
	"github.com/flamelab/flamelab/labs/internal/runner"
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
	shares, err := StageShares(p, []*labs.Lab{l(1), l(5), l(7)}, "")
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

// TestChoose: wall clock decides; the CPU profile only breaks near-ties.
func TestChoose(t *testing.T) {
	for _, c := range []struct {
		name      string
		wall, cpu map[int]float64
		want      int
	}{
		{"clear wall-clock lead, CPU disagrees", map[int]float64{5: 0.40, 7: 0.30}, map[int]float64{5: 0.01, 7: 0.50}, 5},
		{"near-tie, CPU decides", map[int]float64{5: 0.32, 7: 0.30}, map[int]float64{5: 0.01, 7: 0.50}, 7},
		{"near-tie, CPU agrees", map[int]float64{5: 0.32, 7: 0.30}, map[int]float64{5: 0.20, 7: 0.10}, 5},
		{"no stage stands out, CPU decides among all", map[int]float64{2: 0.00, 3: 0.01, 4: 0.01, 6: 0.01}, map[int]float64{2: 0.04, 3: 0.06, 4: 0.39, 6: 0.35}, 4},
		{"one stage left", map[int]float64{3: 0.01}, nil, 3},
	} {
		if got := Choose(c.wall, c.cpu); got != c.want {
			t.Errorf("%s: Choose = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestStagesOfAndHalf(t *testing.T) {
	if got := stagesOf([]int{7, 1}); got != "all=baseline,1=solution,7=solution" {
		t.Errorf("stagesOf = %q", got)
	}
	if _, err := labs.ParseChoice(stagesOf(labs.StagedNumbers())); err != nil {
		t.Errorf("the all-solution stages do not parse: %v", err)
	}
	steps := []Step{{Median: 100}, {Median: 300}, {Median: 600}, {Median: 900}}
	if got := passesHalf(steps, 900); got != 2 {
		t.Errorf("passesHalf = %d, want 2", got)
	}
}

func TestLimits(t *testing.T) {
	m := func(name string, a, b float64) runner.Metric {
		return runner.Metric{Name: name, A: []float64{a}, B: []float64{b}, Result: compare.Result{MedianA: a, MedianB: b}}
	}
	rep := &runner.Report{Metrics: []runner.Metric{m("cores busy", 0.5, 0.95), m("server CPU", 3, 0.5), m("Postgres CPU", 2, 0.6), m("load generator CPU", 1, 0.1)}}
	got := limits(rep)
	if len(got) != 2 || !strings.Contains(got[0], "waits more than it computes") || !strings.Contains(got[1], "CPU-bound, most of it in Postgres") {
		t.Errorf("limits = %q", got)
	}
}

// TestImplausibleWarns: a server faster than the do-nothing server, or a
// COPY ceiling below the fixed server, is printed as a warning at the top
// of the report; plausible figures print none.
func TestImplausibleWarns(t *testing.T) {
	cs := &Result{
		HTTP:     []float64{15000, 16000, 14000},
		CopyReqs: []float64{6000, 6100},
		Final:    2500,
		Article:  []Step{{Stages: "all=baseline", Median: 500}, {Stages: "all=solution", Median: 2500}},
		Sweep:    []SweepPoint{{Workers: 32, Solution: 2500, HTTP: 15000}},
	}
	if w := cs.implausible(); len(w) != 0 {
		t.Fatalf("plausible figures warned: %v", w)
	}
	cs.Article[1].Median, cs.Final = 17000, 17000 // the mirror bug: the ceiling measured the server
	w := cs.implausible()
	if len(w) < 2 || !strings.Contains(w[0], "faster than the do-nothing server") {
		t.Errorf("a server faster than the ceiling and than COPY gave %v", w)
	}
	var md strings.Builder
	cs.Warnings = w
	cs.WriteText(&md)
	if !strings.Contains(md.String()[:200], "WARNING") {
		t.Errorf("the warning is not at the report's top:\n%s", md.String()[:300])
	}
}

// TestLimiterNamesTheExperiment: the experiment that raised the fixed server
// beyond the round robin's noise is named; within the noise, none is, and
// the report says the server waits on itself unless the CPU is spent.
func TestLimiterNamesTheExperiment(t *testing.T) {
	cs := &Result{Final: 2000, FinalRPS: []float64{1900, 2000, 2100}, CPUBudget: 6000,
		Experiments: []Experiment{
			{Suspect: "the database's commit flush", Median: 2050, RPS: []float64{1950, 2050, 2300}},
			{Suspect: "the audit trail's fsyncs", Median: 3000, RPS: []float64{2900, 3000, 3100}},
		}}
	if got := cs.limiter(); !strings.Contains(got, "The limiter is the audit trail's fsyncs") {
		t.Errorf("limiter: %s", got)
	}
	// A higher median whose legs overlap the fixed server's is noise.
	cs.Experiments[1].RPS, cs.Experiments[1].Median = []float64{1800, 2400, 3000}, 2400
	if got := cs.limiter(); !strings.Contains(got, "No single resource") {
		t.Errorf("no experiment beyond the noise, CPU at a third: %s", got)
	}
	cs.CPUBudget = 2100
	if got := cs.limiter(); !strings.Contains(got, "the CPU") {
		t.Errorf("CPU budget nearly spent: %s", got)
	}
}

// TestWallClockShares: each stage's share of the handler, the rest, and a
// writer's busy share, from a fixture profile.
func TestWallClockShares(t *testing.T) {
	l := func(n int) *labs.Lab { lab, _ := labs.ByNumber(n); return lab }
	p := fakeProfile(map[string]int64{
		l(7).Package(labs.Solution) + ".(*Store).Insert":   70,
		l(5).Package(labs.Solution) + ".(*Auditor).Append": 20,
		"github.com/flamelab/flamelab/server.(*Server).x":  10,
	})
	p.SampleType[0].Type = "time"
	// The batch writer: 30 samples working, 10 waiting for work.
	add := func(n int64, names ...string) {
		var locs []*profile.Location
		for _, name := range names {
			f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name}
			p.Function = append(p.Function, f)
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: f}}}
			p.Location = append(p.Location, loc)
			locs = append(locs, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: locs, Value: []int64{n}})
	}
	pkg := l(7).Package(labs.Solution)
	add(30, pkg+".(*Store).flush", pkg+".(*Store).writer")
	add(10, "runtime.selectgo", pkg+".(*Store).writer")
	w, err := WallClockOf(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range w.Stages {
		want := map[int]float64{7: 0.7, 5: 0.2}[s.Lab]
		if s.Share < want-0.001 || s.Share > want+0.001 {
			t.Errorf("lab %d: share %.3f, want %.1f", s.Lab, s.Share, want)
		}
	}
	if w.Rest < 0.099 || w.Rest > 0.101 {
		t.Errorf("rest %.3f, want 0.1", w.Rest)
	}
	if len(w.Writers) != 1 || w.Writers[0].InFlight != 0.75 {
		t.Errorf("writers %+v, want the batch writer's 0.75 batches in flight (working 75%% of its time)", w.Writers)
	}

	// Lab 8's pipeline: the writer loop waits for a slot while two
	// flushes run on goroutines of their own.
	add(40, pkg+".(*Store).flush", pkg+".(*Store).next.func1", l(8).Package(labs.Solution)+".(*Pipeline).Run.func1")
	add(40, pkg+".(*Store).flush", pkg+".(*Store).next.func1", l(8).Package(labs.Solution)+".(*Pipeline).Run.func1")
	w, err = WallClockOf(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Writers[0].InFlight; got < 2.74 || got > 2.76 {
		t.Errorf("with the pipeline's flushes, %.2f batches in flight, want 2.75 (110 flush samples over the loop's 40)", got)
	}
}
