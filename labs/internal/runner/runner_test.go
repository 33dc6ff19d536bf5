package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/server/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestStagesFor(t *testing.T) {
	stages := stagesFor(6, labs.Exercise)
	if !strings.HasPrefix(stages, "all=baseline,") || !strings.Contains(stages, "6=exercise") {
		t.Errorf("stages = %q", stages)
	}
	if _, err := labs.ParseChoice(stages); err != nil && labs.All[5].Has(labs.Exercise) {
		t.Errorf("the server would refuse %q: %v", stages, err)
	}
	c, err := labs.ParseChoice(stagesFor(6, labs.Baseline))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labs.Staged() {
		if want := map[bool]labs.Impl{true: labs.Baseline, false: labs.Solution}[l.Number == 6]; c.Get(l.Number) != want {
			t.Errorf("lab 6's before side runs lab %d's %s, want its %s: a lab's two servers differ only in its stage", l.Number, c.Get(l.Number), want)
		}
	}
	// A lab whose stage runs inside another's (lab 8's pipeline, inside
	// lab 7's store) stays at its baseline in that lab's comparison, on
	// both sides; in its own, the lab it extends is at its solution.
	for _, l := range labs.Staged() {
		if l.Extends == 0 {
			continue
		}
		for _, impl := range []labs.Impl{labs.Baseline, labs.Solution} {
			c, err := labs.ParseChoice(stagesFor(l.Extends, impl))
			if err != nil {
				t.Fatal(err)
			}
			if c.Get(l.Number) != labs.Baseline || c.Get(l.Extends) != impl {
				t.Errorf("lab %d's %s side runs lab %d's %s and its own %s; want lab %d at its baseline", l.Extends, impl, l.Number, c.Get(l.Number), c.Get(l.Extends), l.Number)
			}
		}
		c, err := labs.ParseChoice(stagesFor(l.Number, labs.Baseline))
		if err != nil {
			t.Fatal(err)
		}
		if c.Get(l.Extends) != labs.Solution {
			t.Errorf("lab %d's before side runs lab %d's %s, want its solution (the stage it extends)", l.Number, l.Extends, c.Get(l.Extends))
		}
	}
}

// TestEndToEnd runs a QUICK A/A comparison of lab 6's stage through the
// real server binary and checks every artefact exists and the report parses.
func TestEndToEnd(t *testing.T) {
	db := pgtest.DB(t)
	dir := t.TempDir()
	bin := buildServer(t, dir)
	lab, _ := labs.ByNumber(6)
	out := filepath.Join(dir, "run")
	rep, err := Run(context.Background(), Config{
		Bench: &Bench{ServerBin: bin, DB: db, OutDir: out},
		Lab:   lab, Candidate: labs.Baseline,
		Options: Options{Pairs: 1,
			Work:        Work{Load: load.Spec{Mode: load.Capacity, Requests: 40, Warmup: 5, Workers: 8, Lines: 20, Seed: 1}},
			ProfileWork: 0.5, // the test checks the artefacts, not the samples
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"before", "after"} {
		for _, kind := range []string{"cpu", "fgprof", "allocs", "mutex", "block", "goroutine"} {
			for _, ext := range []string{".pb.gz", ".html"} {
				if fi, err := os.Stat(filepath.Join(out, side+"-"+kind+ext)); err != nil || fi.Size() == 0 {
					t.Errorf("%s-%s%s missing or empty: %v", side, kind, ext, err)
				}
			}
		}
	}
	for _, f := range []string{"diff-cpu.html", "diff-fgprof.html", "diff-allocs.html", "report.md", "report.html"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var parsed Report
	if err := json.Unmarshal(raw, &parsed); err != nil {
		t.Fatalf("report.json does not parse: %v", err)
	}
	if parsed.Lab != 6 || parsed.Title != "lab 6 (06-parsing)" || len(parsed.Metrics) != 12 || len(parsed.A.Legs) != 1 || parsed.A.Legs[0].Load.Requests != 40 {
		t.Errorf("report.json: lab %d, %d metrics, legs %+v", parsed.Lab, len(parsed.Metrics), parsed.A.Legs)
	}
	if l := rep.A.Legs[0]; l.AllocsPerReq <= 0 || l.RoundTripsPerReq <= 0 || l.FsyncsPerReq <= 0 || l.GoroutinesPerReq <= 0 || l.BytesPerReq <= 0 || l.SchedP99 <= 0 || l.CopiesInFlight <= 0 {
		t.Errorf("allocations, round trips, fsyncs, goroutines, scheduler latency or batches in flight not measured: %+v", l)
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, want := range []string{"before-cpu.html", "diff-cpu.html", "<svg"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(string(html), "<script src=") || strings.Contains(string(html), "https://") {
		t.Error("report.html must work offline: no external resources")
	}
}

// TestLegRowsBalanced: the legs are listed in the order they ran, A B then
// B A, pair after pair.
func TestLegRowsBalanced(t *testing.T) {
	leg := func(rps float64) Leg { return Leg{Load: load.Result{ReqPerSec: rps}} }
	r := &Report{Pairs: 3,
		A: &Side{Name: "before", Legs: []Leg{leg(1), leg(3), leg(5)}},
		B: &Side{Name: "after", Legs: []Leg{leg(2), leg(4), leg(6)}}}
	var got []string
	for _, row := range r.LegRows() {
		got = append(got, fmt.Sprintf("%d%s%.0f", row.Pair, row.Side[:1], row.Leg.Load.ReqPerSec))
	}
	if want := "1b1 1a2 2a4 2b3 3b5 3a6"; strings.Join(got, " ") != want {
		t.Errorf("legs in order %q, want %q", strings.Join(got, " "), want)
	}
}

// TestChecksNameMetrics: every figure a lab's claim is checked against is a
// row of MetricDefs (or the stage share): a misspelt name would otherwise
// show "not measured yet" on the claims page, silently.
func TestChecksNameMetrics(t *testing.T) {
	for _, l := range labs.All {
		for _, c := range l.Checks {
			if _, ok := MetricNamed(c.Metric); !ok && c.Metric != StageShare {
				t.Errorf("lab %d checks its claim against %q, which no report has (runner.MetricDefs)", l.Number, c.Metric)
			}
		}
	}
	if _, ok := MetricNamed("throughput "); ok {
		t.Error("MetricNamed matched a misspelt name")
	}
}

// TestSideBinAndCaptures: a side with its own binary runs it, not the
// bench's (lab 9 compares two builds of one source), and CPUCaptures takes
// as many CPU profiles as asked, one after the other, from one server.
func TestSideBinAndCaptures(t *testing.T) {
	db := pgtest.DB(t)
	dir := t.TempDir()
	bin := buildServer(t, dir)
	spec := load.Spec{Mode: load.Capacity, Requests: 30, Warmup: 5, Workers: 4, Lines: 10, Seed: 1}
	b := &Bench{ServerBin: filepath.Join(dir, "no-such-server"), DB: db, OutDir: dir}
	side := &Side{Name: "after", Impl: labs.Solution, Stages: labs.Fix(labs.StagedNumbers()...).Flag(), Bin: bin}
	if leg, err := b.Leg(context.Background(), side, Work{Load: spec}, "bin"); err != nil || leg.Load.Succeeded != 30 {
		t.Fatalf("a leg of a side with Bin set: %+v, %v (did it run the bench's ServerBin?)", leg.Load, err)
	}
	side.Bin = ""
	if _, err := b.Leg(context.Background(), side, Work{Load: spec}, "nobin"); err == nil {
		t.Error("a side without Bin ran although the bench's ServerBin does not exist")
	}
	b.ServerBin = bin
	paths, err := b.CPUCaptures(context.Background(), side.Stages, spec, 1, 2, "capture")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || filepath.Base(paths[0]) != "capture-1.pb.gz" || filepath.Base(paths[1]) != "capture-2.pb.gz" {
		t.Fatalf("CPUCaptures wrote %q, want capture-1.pb.gz and capture-2.pb.gz", paths)
	}
	for _, p := range paths {
		prof, err := flame.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if prof.PeriodType == nil || prof.PeriodType.Type != "cpu" {
			t.Errorf("%s is not a CPU profile: %v", p, prof.PeriodType)
		}
	}
}

// buildServer builds the server binary into dir: the tests run the real
// one, in its own process, as make lab-N does.
func buildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "flamelab-server")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/flamelab-server").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
