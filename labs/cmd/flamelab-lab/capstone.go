package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flamelab/flamelab/labs"
	"github.com/flamelab/flamelab/labs/internal/capstone"
	"github.com/flamelab/flamelab/labs/internal/claims"
	"github.com/flamelab/flamelab/labs/internal/load"
	"github.com/flamelab/flamelab/labs/internal/runner"
	"github.com/flamelab/flamelab/server/postgres"
)

// runCapstone runs make capstone: all-baseline against all-solution, the two
// waterfalls and the ablation.
func runCapstone(args []string) error {
	fs := flag.NewFlagSet("capstone", flag.ExitOnError)
	var (
		quick    = fs.Bool("quick", false, "one small pair and one round: checks the pipeline, measures little")
		pairs    = fs.Int("pairs", 5, "alternating pairs of the all-baseline against all-solution comparison")
		rounds   = fs.Int("rounds", 3, "round-robin rounds over the waterfall and ablation configurations")
		requests = fs.Int("requests", 0, "measured requests per leg; 0: sized (the headline's faster side lasts -min-leg s, the round robin's fastest configuration -round-seconds)")
		minLeg   = fs.Float64("min-leg", 3, "with -requests 0: the least seconds of the headline comparison's faster legs")
		slowLeg  = fs.Float64("slow-leg", 12, "with -requests 0: when the sides differ tenfold, cut the work so the slower side's legs last about this long (never under a second of the faster side's)")
		roundSec = fs.Float64("round-seconds", 1, "with -requests 0: the seconds of an all-solution leg in the round robin and the sweep")
		workers  = fs.Int("workers", 32, "concurrent clients")
		lines    = fs.Int("lines", 50, "access-log lines per request")
		profSecs = fs.Int("profile-seconds", 4, "fgprof window at each step of the profile-order waterfall")
		out      = fs.String("out", "profiles", "where capstone/<timestamp>/ goes")
		dir      = fs.String("dir", "", "write the run into exactly this directory, replacing it, and leave latest alone (make docs)")
		validate = fs.Bool("validate", false, "check the flags, then stop")
	)
	fs.Parse(args)
	if *validate {
		return nil
	}
	spec := load.Spec{Mode: load.Capacity, Requests: *requests, Warmup: 60, Workers: *workers, Lines: *lines, Seed: 1, Limit: 3 * time.Minute}
	if *quick {
		*pairs, *rounds, *profSecs = 1, 1, 1
		spec.Requests, spec.Warmup = 80, 10
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runDir := filepath.Join(*out, "capstone", time.Now().Format("20060102-150405"))
	if *dir != "" {
		runDir = *dir
		if err := os.RemoveAll(runDir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "capstone: building flamelab-server")
	bin := filepath.Join(runDir, "flamelab-server")
	if err := labs.BuildServer(ctx, bin, labs.Choice{}); err != nil {
		return err
	}
	defer os.Remove(bin)
	db, err := postgres.Provision(ctx, postgres.Options{Durability: postgres.Durable, CloseOnInterrupt: true})
	if err != nil {
		return err
	}
	defer db.Close(context.Background())

	cs, err := capstone.Run(ctx, capstone.Config{
		Bench:   &runner.Bench{ServerBin: bin, DB: db, OutDir: runDir, Progress: os.Stderr, Commit: commit()},
		Options: runner.Options{Pairs: *pairs, Work: runner.Work{Load: spec}, MinLegSeconds: *minLeg, SlowLegSeconds: *slowLeg},
		Rounds:  *rounds, ProfileSeconds: *profSecs, RoundSeconds: *roundSec,
	})
	if err != nil {
		return err
	}
	latest := filepath.Join(*out, "capstone", "latest")
	if *dir != "" {
		latest = runDir
	} else {
		os.Remove(latest)
		if err := os.Symlink(filepath.Base(runDir), latest); err != nil {
			return err
		}
	}
	fmt.Println()
	cs.WriteText(os.Stdout)
	if *quick {
		fmt.Println("\n(QUICK: one small pair and one round; the pipeline is checked, the numbers mean little)")
	}
	fmt.Printf("\nreport: %s/capstone.md, %s/capstone.html; the comparison's profiles and flame graphs: %s/compare/ (took %.0f s)\n", latest, latest, latest, cs.ElapsedSecs)
	return nil
}

// writeClaims writes docs/claims.md from the latest reports in profiles/.
func writeClaims(args []string) error {
	fs := flag.NewFlagSet("claims", flag.ExitOnError)
	out := fs.String("out", "docs/claims.md", "where to write")
	profiles := fs.String("profiles", "profiles", "where the reports are")
	fs.Parse(args)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	latest := func(name string) string { return filepath.Join(*profiles, name, "latest") }
	if err := claims.Write(f, latest, "the latest `make lab-N` report of each lab and the latest `make capstone`, as they are in `profiles/` on the machine that ran it", commit()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", *out)
	return nil
}

// commit names the code being measured: git describe, with "-dirty" when
// the tree has changes; "" outside a git checkout.
func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
