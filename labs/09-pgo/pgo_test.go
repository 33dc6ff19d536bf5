package pgo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/09-pgo/baseline"
	"github.com/flamelab/flamelab/labs/09-pgo/exercise"
	"github.com/flamelab/flamelab/labs/09-pgo/solution"
	"github.com/flamelab/flamelab/labs/internal/labtest"
)

var impls = map[labs.Impl]labs.PGOMerge{
	labs.Baseline: baseline.Merge,
	labs.Exercise: exercise.Merge,
	labs.Solution: solution.Merge,
}

// captures are two CPU profiles of the fixed server under make lab-9's
// load (testdata/README.md says when and how they were taken).
func captures(t testing.TB) []*profile.Profile {
	t.Helper()
	paths, _ := filepath.Glob("testdata/capture-*.pb.gz")
	if len(paths) != 2 {
		t.Fatalf("testdata holds %d captures, want 2: see testdata/README.md", len(paths))
	}
	var out []*profile.Profile
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := profile.Parse(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, pr)
	}
	return out
}

func total(p *profile.Profile) (n int64) {
	for _, s := range p.Sample {
		n += s.Value[0]
	}
	return n
}

// TestMergeKeepsEverySample: a profile Merge returns is a valid CPU profile
// holding every sample of every capture, no more. (No profile is allowed:
// it is the baseline's -pgo=off.)
func TestMergeKeepsEverySample(t *testing.T) {
	for _, impl := range labtest.Under(t, impls) {
		t.Run(string(impl.Name), func(t *testing.T) {
			caps := captures(t)
			want := total(caps[0]) + total(caps[1])
			got, err := impl.Of(caps)
			if err != nil {
				t.Fatalf("Merge of two CPU captures: %v", err)
			}
			if got == nil {
				t.Logf("%s: no profile (the server is built with -pgo=off)", impl.Name)
				return
			}
			if err := got.CheckValid(); err != nil {
				t.Fatalf("the merged profile is not valid: %v", err)
			}
			if got.PeriodType == nil || got.PeriodType.Type != "cpu" {
				t.Errorf("the merged profile is sampled by %v, want cpu", got.PeriodType)
			}
			if n := total(got); n != want {
				t.Errorf("the merged profile holds %d samples; the captures hold %d between them", n, want)
			}
		})
	}
}

// TestMergeRefusesWallClock: an fgprof profile has the samples/count column
// the compiler asks for, so go build would take it, and spend the inlining
// budget on the code that waits. A Merge that returns a profile must refuse
// one.
func TestMergeRefusesWallClock(t *testing.T) {
	for _, impl := range labtest.Under(t, impls) {
		t.Run(string(impl.Name), func(t *testing.T) {
			caps := captures(t)
			if got, _ := impl.Of(caps); got == nil {
				t.Logf("%s: returns no profile at all", impl.Name)
				return
			}
			wall := caps[1].Copy()
			wall.PeriodType = &profile.ValueType{Type: "wallclock", Unit: "nanoseconds"}
			wall.SampleType[1] = &profile.ValueType{Type: "time", Unit: "nanoseconds"}
			if _, err := impl.Of([]*profile.Profile{caps[0], wall}); err == nil {
				t.Errorf("%s: Merge took a wall-clock (fgprof-shaped) profile; it must refuse anything not sampled by CPU time", impl.Name)
			}
			if _, err := impl.Of(nil); err == nil {
				t.Errorf("%s: Merge of no captures returned no error; say what to take instead", impl.Name)
			}
		})
	}
}

// TestTestdataProfile: testdata/default.pgo, which the lesson's benchmark
// builds with, is the solution's merge of the two captures beside it.
func TestTestdataProfile(t *testing.T) {
	want, err := solution.Merge(captures(t))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/default.pgo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if total(got) != total(want) || len(got.Sample) != len(want.Sample) {
		t.Errorf("testdata/default.pgo holds %d samples in %d stacks; the captures merged hold %d in %d: copy the default.pgo of the run that took them (testdata/README.md)",
			total(got), len(got.Sample), total(want), len(want.Sample))
	}
}
