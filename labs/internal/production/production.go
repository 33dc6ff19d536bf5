// Package production is make lab-10: the spike a CPU profile misses, the
// flight-recorder snapshot that catches it, and what the recorder and the
// profiler labels cost.
//
// Run is three comparisons and a reading, in this order:
//
//	spike     the lab's own comparison (runner.Run): the server with the
//	          baseline key sweep against the candidate's, at a constant
//	          rate, a million day-old keys swept a third of the way into
//	          every leg, the flight recorder on in both; the CPU profile
//	          of the profiled legs gives the sweeper's share (about none)
//	snapshot  the first snapshot each side's recorder wrote, read with
//	          flight.Read: the longest waits of flamelab's goroutines, and
//	          the sweep's own
//	labels    the fixed server with -no-pprof-labels against it with its
//	          labels, in capacity mode: server CPU per request
//	recorder  the fixed server against it with a flight recorder that
//	          never triggers (-flight-recorder=1h): what recording costs
//
// It writes production.md beside the report, which make docs appends to
// the lab's block.
package production

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/flame"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server"
	"github.com/flamelab/flamelab/server/flight"
)

// Config is one make lab-10 run.
type Config struct {
	Bench     *runner.Bench
	Lab       *labs.Lab // lab 10
	Candidate labs.Impl
	runner.Options
	// CostPairs is the pairs of each cost comparison; CostLoad their load
	// (capacity mode: CPU per request at full speed).
	CostPairs int
	CostLoad  load.Spec
}

// Result is what make lab-10 found.
type Result struct {
	Report *runner.Report // the spike comparison
	Caught []Caught       // per side, A then B
	// Labels and Recorder are the cost comparisons: A without, B with.
	Labels, Recorder *runner.Report
	// Shares is each stage's share of the after side's CPU profile, by
	// its profiler label and by its package's frames (the runner's
	// stage share), in server.Stage* order.
	Shares []Share
}

// Share is one stage's share of a CPU profile, two ways.
type Share struct {
	Stage   string  // the stage label's value
	Package string  // the implementation's import path on that side
	ByLabel float64 // samples labelled stage=Stage, over all
	ByFrame float64 // samples with a frame of Package anywhere (Cum)
}

// Caught is what one side's flight recorder wrote.
type Caught struct {
	Side      string
	Snapshots []string // every snapshot file, oldest first
	// File is the snapshot read: the one with the sweep's longest wait.
	File  string
	Bytes int64 // its size
	// Span is how much trace it holds; Waits its longest waits of
	// request goroutines in flamelab's code, longest first; Sweep the
	// sweep goroutine's longest wait, if it holds one.
	Span  string
	Waits []flight.Wait
	Sweep *flight.Wait
}

// Run runs make lab-10 (see the package doc).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	rep, err := runner.Run(ctx, runner.Config{Bench: cfg.Bench, Lab: cfg.Lab, Candidate: cfg.Candidate, Options: cfg.Options})
	if err != nil {
		return nil, err
	}
	res := &Result{Report: rep}
	for _, s := range []*runner.Side{rep.A, rep.B} {
		c, err := caught(filepath.Join(cfg.Bench.OutDir, "flight-"+s.Name), s)
		if err != nil {
			return nil, err
		}
		res.Caught = append(res.Caught, c)
	}
	if res.Shares, err = shares(rep.B); err != nil {
		return nil, err
	}
	fixed := labs.Fix(labs.StagedNumbers()...).Flag()
	cost := func(dir, title string, a, b []string) (*runner.Report, error) {
		return cfg.Bench.In(filepath.Join(cfg.Bench.OutDir, dir)).Compare(ctx, runner.Comparison{
			Title: title, Lab: cfg.Lab.Number, Slug: cfg.Lab.Slug, Profile: "cpu",
			A:       &runner.Side{Name: "before", Impl: labs.Solution, Stages: fixed, Args: a},
			B:       &runner.Side{Name: "after", Impl: labs.Solution, Stages: fixed, Args: b},
			Options: runner.Options{Pairs: cfg.CostPairs, Work: runner.Work{Load: cfg.CostLoad, ProcessCPU: true}, MinLegSeconds: 4},
		})
	}
	if res.Labels, err = cost("cost-labels", "lab 10: the profiler labels' cost", []string{"-no-pprof-labels"}, nil); err != nil {
		return nil, err
	}
	rec := []string{"-flight-recorder", "1h", "-flight-dir", filepath.Join(cfg.Bench.OutDir, "cost-recorder", "flight")}
	if res.Recorder, err = cost("cost-recorder", "lab 10: the flight recorder's cost", nil, rec); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(cfg.Bench.OutDir, "production.md"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res.WriteText(f)
	return res, f.Close()
}

// stageLab is the lab whose stage each stage label names.
var stageLab = []struct {
	stage string
	lab   int
}{{server.StageRead, 2}, {server.StageParse, 6}, {server.StageEnrich, 1}, {server.StageStore, 7}, {server.StageStats, 3}, {server.StageEncode, 4}, {server.StageAudit, 5}}

// shares measures each stage's share of side's CPU profile by label and by
// package. The side runs every lab but 10 at its solution.
func shares(side *runner.Side) ([]Share, error) {
	p, err := flame.Load(side.Profiles["cpu"])
	if err != nil {
		return nil, err
	}
	idx := len(p.SampleType) - 1
	var total int64
	by := map[string]int64{}
	for _, s := range p.Sample {
		total += s.Value[idx]
		if st := s.Label["stage"]; len(st) > 0 {
			by[st[0]] += s.Value[idx]
		}
	}
	var out []Share
	for _, sl := range stageLab {
		l, err := labs.ByNumber(sl.lab)
		if err != nil {
			return nil, err
		}
		pkg := l.Package(labs.Solution)
		fs, err := flame.FuncShare(p, regexp.MustCompile("^"+regexp.QuoteMeta(pkg)+`\.`), "cpu")
		if err != nil {
			return nil, err
		}
		sh := Share{Stage: sl.stage, Package: pkg, ByFrame: fs.Cum}
		if total > 0 {
			sh.ByLabel = float64(by[sl.stage]) / float64(total)
		}
		out = append(out, sh)
	}
	return out, nil
}

// caught reads every snapshot in dir and keeps the one that holds the
// sweep's longest wait (the last one, if none does).
func caught(dir string, s *runner.Side) (Caught, error) {
	c := Caught{Side: s.Name}
	c.Snapshots, _ = filepath.Glob(filepath.Join(dir, "flight-*.trace"))
	slices.Sort(c.Snapshots)
	sweeper := "labs/10-production/" + string(s.Impl) + ".(*Sweeper).Sweep"
	for _, path := range c.Snapshots {
		one, err := read(path, sweeper)
		if err != nil {
			return c, err
		}
		if c.File == "" || one.Sweep != nil && (c.Sweep == nil || one.Sweep.For > c.Sweep.For) || c.Sweep == nil && one.Sweep == nil {
			one.Side, one.Snapshots = c.Side, c.Snapshots
			c = one
		}
	}
	return c, nil
}

// read reads one snapshot.
func read(path, sweeper string) (Caught, error) {
	c := Caught{File: path}
	f, err := os.Open(path)
	if err != nil {
		return c, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		c.Bytes = st.Size()
	}
	waits, span, err := flight.Read(f)
	if err != nil {
		return c, fmt.Errorf("reading %s: %w", path, err)
	}
	c.Span = span.Round(1e6).String()
	for _, w := range waits {
		if w.Has(sweeper) && c.Sweep == nil {
			c.Sweep = &w
		}
		if len(c.Waits) < 5 && w.Has("github.com/flamelab/flamelab/") && !w.Has(sweeper) {
			c.Waits = append(c.Waits, w)
		}
	}
	return c, nil
}

// WriteText writes what the snapshots show and what the labels and the
// recorder cost, as Markdown-friendly text.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\nflight recorder (%s: a request slower than that writes the last %s of trace, at most once per %s):\n",
		runner.FlightSlow, flight.DefaultWindow, runner.FlightEvery)
	for _, c := range r.Caught {
		if len(c.Snapshots) == 0 {
			fmt.Fprintf(w, "  %s: no snapshot in any leg: no request took over %s\n", c.Side, runner.FlightSlow)
			continue
		}
		fmt.Fprintf(w, "  %s: %d snapshot(s) over its legs; %s holds %s of trace (%.1f MB)\n", c.Side, len(c.Snapshots), filepath.Join(filepath.Base(filepath.Dir(c.File)), filepath.Base(c.File)), c.Span, float64(c.Bytes)/1e6)
		if c.Sweep != nil {
			fmt.Fprintf(w, "    the sweep's goroutine: blocked %s (%s)%s in\n", c.Sweep.For.Round(1e6), c.Sweep.Reason, openNote(*c.Sweep))
			writeStack(w, *c.Sweep, 6)
		} else {
			fmt.Fprintf(w, "    no wait of the sweep's goroutine in it\n")
		}
		fmt.Fprintf(w, "    the longest other waits in flamelab's code (the requests'):\n")
		for _, wt := range c.Waits {
			fmt.Fprintf(w, "      %8s  %-14s %s%s\n", wt.For.Round(1e6), wt.Reason, innermost(wt), openNote(wt))
		}
	}
	if len(r.Shares) > 0 {
		fmt.Fprintf(w, "\neach stage's share of the after side's CPU profile, by its label and by its package's frames:\n")
		for _, sh := range r.Shares {
			fmt.Fprintf(w, "  stage=%-7s %5.1f%%   %-42s %5.1f%%\n", sh.Stage, 100*sh.ByLabel, strings.TrimPrefix(sh.Package, "github.com/flamelab/flamelab/"), 100*sh.ByFrame)
		}
	}
	for _, c := range []struct {
		what string
		rep  *runner.Report
	}{{"profiler labels", r.Labels}, {"flight recorder, recording", r.Recorder}} {
		if c.rep == nil {
			continue
		}
		fmt.Fprintf(w, "\ncost of the %s (fixed server, capacity, %d pairs, without → with):\n", c.what, c.rep.Pairs)
		for _, m := range c.rep.Metrics {
			switch m.Name {
			case "server CPU", "throughput", "latency p99", "allocations", "server peak memory":
				fmt.Fprintf(w, "  %-12s %s → %s %s, %s, %s\n", m.Name, runner.Num(m.MedianA), runner.Num(m.MedianB), m.Unit, m.RatioText(), m.Verdict())
			}
		}
	}
}

func openNote(w flight.Wait) string {
	if w.Open {
		return ", still blocked when the snapshot was written"
	}
	return ""
}

// innermost is the innermost frame of flamelab's code in w's stack.
func innermost(w flight.Wait) string {
	for _, f := range w.Stack {
		if strings.Contains(f.Func, "github.com/flamelab/flamelab/") {
			return strings.TrimPrefix(f.Func, "github.com/flamelab/flamelab/")
		}
	}
	return ""
}

// writeStack writes w's stack from the innermost flamelab frame's caller
// chain: up to n frames, the runtime's own left out.
func writeStack(w io.Writer, wt flight.Wait, n int) {
	for _, f := range wt.Stack {
		if n == 0 {
			break
		}
		if strings.HasPrefix(f.Func, "runtime.") || strings.HasPrefix(f.Func, "internal/poll.") {
			continue
		}
		fmt.Fprintf(w, "      %s (%s:%d)\n", strings.TrimPrefix(f.Func, "github.com/flamelab/flamelab/"), filepath.Base(f.File), f.Line)
		n--
	}
}
