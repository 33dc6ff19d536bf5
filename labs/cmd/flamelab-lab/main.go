// Command flamelab-lab is the engine behind the Makefile's lab targets. Run
// it from the repository root (the Makefile does).
//
//	flamelab-lab run -lab 6 [-impl solution|exercise|baseline] [-quick]   make lab-6
//	flamelab-lab check -lab 6                                            make check-6
//	flamelab-lab reset -lab 6                                            make reset-6
//	flamelab-lab bench -lab 6 [-count 10]                                make bench-6
//	flamelab-lab fuzz -lab 6 [-fuzztime 2m]                              make fuzz-6
//	flamelab-lab tags all=baseline,6=exercise                            the -tags make serve builds with
//	flamelab-lab capstone [-quick]                                       make capstone
//	flamelab-lab claims                                                  make claims: docs/claims.md
//	flamelab-lab docs [-lab 6] [-check]                                  make docs, make docs-check
//
// run compares the server with lab N's stage at its baseline (before) and
// at -impl (after): -pairs alternating legs of the same fixed work, one extra
// profiled leg per side, flame graphs, a diff, and a report in
// profiles/lab-N/<timestamp>/ (profiles/lab-N/latest points at the newest).
// -impl baseline compares the baseline with itself: an A/A run, whose spread
// is the noise floor every claimed speed-up must clear.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/labs"
	_ "github.com/flamelab/flamelab/labs/exercises" // lab 9's exercise, under its tag (make lab-9 IMPL=exercise)
	"github.com/flamelab/flamelab/labs/internal/instrument"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/pgo"
	"github.com/flamelab/flamelab/labs/internal/production"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	case "reset":
		err = reset(os.Args[2:])
	case "bench":
		err = bench(os.Args[2:])
	case "fuzz":
		err = fuzz(os.Args[2:])
	case "tags":
		err = tags(os.Args[2:])
	case "capstone":
		err = runCapstone(os.Args[2:])
	case "claims":
		err = writeClaims(os.Args[2:])
	case "docs":
		err = docsCmd(os.Args[2:])
	case "roundtrip":
		err = roundtrip(os.Args[2:])
	case "ceiling":
		err = ceiling(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "flamelab-lab:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  flamelab-lab run -lab N [-impl solution|exercise|baseline] [-quick] [flags]
  flamelab-lab check|reset|bench|fuzz -lab N [flags]
  flamelab-lab tags STAGES
  flamelab-lab capstone [-quick] [flags]
  flamelab-lab claims [-out docs/claims.md]
  flamelab-lab roundtrip [-n 1000]
  flamelab-lab ceiling [-legs 3] [-requests 30000]
  flamelab-lab docs [-lab 6,capstone] [-splice] [-check]`)
	os.Exit(2)
}

// run is flamelab-lab run: make lab-N.
//
// It is long on purpose: an entry point that only wires, flag by flag, into
// one runner.Config.
func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	var (
		n        = fs.Int("lab", 0, "lab number, "+labs.Range())
		impl     = fs.String("impl", "solution", "the after side: solution, exercise, or baseline (A/A noise run)")
		quick    = fs.Bool("quick", false, "one pair of small legs: checks the pipeline, measures little")
		pairs    = fs.Int("pairs", 5, "alternating before/after pairs; fewer than 4 can never be called significant")
		requests = fs.Int("requests", 0, "measured requests per leg; 0: sized so the faster side's legs last -min-leg seconds (a calibration leg per side decides)")
		minLeg   = fs.Float64("min-leg", 3, "with -requests 0: the least seconds a measured leg of the faster side lasts")
		slowLeg  = fs.Float64("slow-leg", 12, "with -requests 0: when the sides differ tenfold, cut the work so the slower side's legs last about this long (never under a second of the faster side's)")
		warmup   = fs.Int("warmup", 60, "requests per leg before measuring")
		workers  = fs.Int("workers", 32, "concurrent clients (capacity mode)")
		lines    = fs.Int("lines", 50, "access-log lines per request")
		rate     = fs.Int("rate", 0, "requests per second: switches to latency mode (a fixed rate the slow side can sustain)")
		trace    = fs.Bool("trace", false, "also capture a 2-second execution trace per side")
		out      = fs.String("out", "profiles", "where lab-N/<timestamp>/ goes")
		dir      = fs.String("dir", "", "write the run into exactly this directory, replacing it, and leave latest alone (make docs: the reference captures)")
		seed     = fs.Uint64("seed", 1, "payload seed")
		goexp    = fs.String("goexperiment", "", "GOEXPERIMENT for building the server (both sides), e.g. nogreenteagc")
		pgoSecs  = fs.Int("pgo-seconds", 0, "lab 9: the window of each CPU profile default.pgo is merged from; 0: 10 s, with -quick 2 s")
		validate = fs.Bool("validate", false, "check the flags, the lab and the implementation, then stop (CI checks the lessons' commands this way)")
	)
	fs.Parse(args)

	lab, err := labs.ByNumber(*n)
	if err != nil {
		return err
	}
	cand := labs.Impl(*impl)
	if !lab.Has(cand) {
		if cand == labs.Solution {
			return fmt.Errorf("lab %d (%s) has no solution yet; `make lab-%d IMPL=baseline` measures the A/A noise floor meanwhile", lab.Number, lab.Slug, lab.Number)
		}
		return fmt.Errorf("lab %d (%s) has no %s yet; it has %v", lab.Number, lab.Slug, cand, lab.Impls())
	}
	if lab.BuildsProfile() {
		if _, err := lab.PGO(cand); err != nil {
			return err
		}
	}
	if *validate {
		return nil
	}
	spec := load.Spec{Mode: load.Capacity, Requests: *requests, Warmup: *warmup, Workers: *workers, Lines: *lines, Seed: *seed, Limit: 3 * time.Minute}
	if *rate == 0 && lab.Sweeps {
		// A spike is a latency, and latency is measured at a fixed rate:
		// one the fixed server sustains with half the machine to spare,
		// as a service is run.
		*rate = 400
	}
	if *rate > 0 {
		spec.Mode, spec.Rate = load.Latency, *rate
	}
	if *quick {
		*pairs = 1
		spec.Requests, spec.Warmup = 80, 10
	}
	reads := 0
	if lab.Reads {
		reads = -1 // as many reads as writes, after the writes
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	runDir := filepath.Join(*out, fmt.Sprintf("lab-%d", lab.Number), time.Now().Format("20060102-150405"))
	if *dir != "" {
		runDir = *dir
		if err := os.RemoveAll(runDir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(runDir, "flamelab-server")
	if lab.BuildsProfile() {
		bin = "" // lab 9 builds its two servers itself, with and without a profile
	} else {
		fmt.Fprintf(os.Stderr, "lab-%d: building flamelab-server\n", lab.Number)
	}
	// Built for exactly this comparison: an exercise is linked only when it
	// runs (see package labs), so a broken exercise breaks no other lab.
	var env []string
	if *goexp != "" {
		env = append(env, "GOEXPERIMENT="+*goexp)
		fmt.Fprintf(os.Stderr, "lab-%d: building with GOEXPERIMENT=%s\n", lab.Number, *goexp)
	}
	if bin != "" {
		if err := labs.BuildServer(ctx, bin, labs.Choice{lab.Number: cand}, env...); err != nil {
			return err
		}
		defer os.Remove(bin)
	}

	// One database for every leg, durable: the labs measure commits.
	db, err := postgres.Provision(ctx, postgres.Options{Durability: postgres.Durable, CloseOnInterrupt: true})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())

	bench := &runner.Bench{ServerBin: bin, DB: db, OutDir: runDir, Progress: os.Stderr, Commit: commit()}
	var print func()
	report := "report.md, report.html (flame graphs linked there)"
	opts := runner.Options{
		Pairs: *pairs, Work: runner.Work{Load: spec, StatsReaders: statsReaders(lab), Reads: reads, ProcessCPU: lab.ProcessCPU, SweepKeys: sweepKeys(lab, *quick)},
		Trace: *trace || lab.Trace, MinLegSeconds: *minLeg, SlowLegSeconds: *slowLeg,
	}
	if lab.Sweeps && *requests == 0 && !*quick {
		// The sweep lasts a second or two: a leg ten times as long puts
		// it in the p99 without making it the whole leg.
		opts.MinLegSeconds = max(opts.MinLegSeconds, 12)
	}
	switch {
	case lab.BuildsProfile():
		// Profile-guided optimisation: two builds of the fixed server.
		seconds := *pgoSecs
		if seconds == 0 {
			seconds = 10
			if *quick {
				seconds = 2
			}
		}
		res, err := pgo.Run(ctx, pgo.Config{Bench: bench, Lab: lab, Impl: cand, Seconds: seconds, Options: opts})
		if err != nil {
			return err
		}
		print = func() { res.Report.WriteTable(os.Stdout); res.WriteText(os.Stdout) }
		report = "report.md, report.html, pgo.md (the compiler's decisions), default.pgo and the captures it was merged from"
	case lab.Sweeps:
		// Production: the spike, the snapshot, and what the recorder and
		// the labels cost, each measured at full speed.
		costPairs, cost := 4, spec
		cost.Mode, cost.Rate, cost.Requests = load.Capacity, 0, *requests
		if *quick {
			costPairs = 1
		}
		res, err := production.Run(ctx, production.Config{Bench: bench, Lab: lab, Candidate: cand, Options: opts, CostPairs: costPairs, CostLoad: cost})
		if err != nil {
			return err
		}
		print = func() { res.Report.WriteTable(os.Stdout); res.WriteText(os.Stdout) }
		report = "report.md, report.html, production.md (the snapshots read, the costs); the snapshots in flight-before/ and flight-after/ open with go tool trace"
	case lab.Stage == "":
		// A lab about the instrument: the noise floor, the load
		// generator's ceiling, closed against open loop.
		rounds := 2
		if *quick {
			rounds = 1
		}
		res, err := instrument.Run(ctx, instrument.Config{Bench: bench, Load: spec, Pairs: *pairs, Rounds: rounds})
		if err != nil {
			return err
		}
		print, report = func() { res.WriteText(os.Stdout) }, "lab0.md, lab0.html (beside them the A/A comparison's report.md and flame graphs)"
	default:
		rep, err := runner.Run(ctx, runner.Config{Bench: bench, Lab: lab, Candidate: cand, Options: opts})
		if err != nil {
			return err
		}
		print = func() { rep.WriteTable(os.Stdout) }
	}
	latest := filepath.Join(*out, fmt.Sprintf("lab-%d", lab.Number), "latest")
	if *dir != "" {
		latest = runDir
	} else {
		os.Remove(latest)
		if err := os.Symlink(filepath.Base(runDir), latest); err != nil {
			return err
		}
	}
	print()
	if *quick {
		fmt.Println("\n(QUICK: one pair of small legs; the pipeline is checked, the numbers mean little)")
	}
	fmt.Printf("\nreport in %s/: %s; make flame-%d opens pprof's UI\n", latest, report, lab.Number)
	return nil
}

// sweepKeys is how many day-old Idempotency-Keys a sweeping lab's legs
// sweep: an hour of keys of a service taking 280 keyed requests a second.
func sweepKeys(lab *labs.Lab, quick bool) int {
	switch {
	case !lab.Sweeps:
		return 0
	case quick:
		return 20_000
	}
	return 1_000_000
}

// statsReaders is how many fast GET /stats clients run beside the ingest
// load (plus one slow one) for labs whose stage is on that path.
func statsReaders(lab *labs.Lab) int {
	if lab.StatsReaders {
		return 3
	}
	return 0
}
